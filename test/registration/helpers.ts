// Shared pieces of the registration tests: a host identity fixture, a logger that records,
// a bounded wait, and a VM source the test drives.
import type { HostIdentity } from "../../src/telemetry/types.ts";
import type { HeartbeatFigures } from "../../src/registration/messages.ts";
import type { NodeVm, NodeVmChange, NodeVmSource, RegistrarLogger } from "../../src/registration/registrar.ts";

export const identityFixture: HostIdentity = {
  hostname: "hv-test-01",
  os: { name: "Debian GNU/Linux", version: "12", kernel: "6.1.0-26-amd64", arch: "x86_64" },
  cpu: {
    model: "AMD EPYC 7302P 16-Core Processor",
    sockets: 1,
    coresPerSocket: 16,
    threadsPerCore: 2,
    totalThreads: 32,
    onlineCpus: 32,
    mhz: 2999.6,
    flags: ["fpu", "vme", "svm", "avx2"],
    virtualization: true,
  },
  memory: {
    totalBytes: 134_217_728_000,
    availableBytes: 120_000_000_000,
    hugepages2mTotal: 1024,
    hugepages2mFree: 512,
    hugepages1gTotal: 4,
    hugepages1gFree: 2,
  },
  numaNodes: 1,
  pciDevices: [],
};

export const figuresFixture: HeartbeatFigures = {
  cpuUsagePercent: 12.5,
  memoryUsedBytes: 8 * 1024 * 1024 * 1024 + 123,
  memoryTotalBytes: 64 * 1024 * 1024 * 1024,
  runningVmCount: 3,
  diskUsedBytes: 500_000_000_000,
  diskTotalBytes: 2_000_000_000_000,
  load1: 0.5,
  load5: 0.25,
  load15: 0.125,
};

export interface LogLine {
  level: "info" | "warn" | "error" | "debug";
  message: string;
}

export function recordingLogger(): RegistrarLogger & { lines: LogLine[]; count(re: RegExp): number } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (...args: unknown[]) => {
      lines.push({ level, message: args.map(String).join(" ") });
    };
  return {
    lines,
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    debug: at("debug"),
    count: (re) => lines.filter((l) => l.level !== "debug" && re.test(l.message)).length,
  };
}

/** Polls until the condition holds; fails the test with `what` after timeoutMs. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * A VM source the test drives: VMs it lists, changes it pushes. A listing is taken when list()
 * is called; holdListing() keeps the next listing from returning until released, so a test can
 * change VMs while the registrar waits for it.
 */
export interface FakeVms {
  source: NodeVmSource;
  /** Adds or changes a VM and pushes the change, as a backend event would. */
  set(vm: NodeVm): void;
  remove(id: string): void;
  listeners(): number;
  listCalls(): number;
  holdListing(): () => void;
  failListing(err: Error | undefined): void;
}

export function fakeVms(initial: NodeVm[] = []): FakeVms {
  const vms = new Map(initial.map((vm) => [vm.id, vm]));
  const listeners = new Set<(change: NodeVmChange) => void>();
  let gate: Promise<void> | undefined;
  let failure: Error | undefined;
  let listCalls = 0;
  const emit = (change: NodeVmChange) => {
    for (const l of listeners) l(change);
  };
  return {
    source: {
      async list() {
        listCalls++;
        if (failure !== undefined) throw failure;
        const snapshot = [...vms.values()];
        const wait = gate;
        gate = undefined;
        await wait;
        return snapshot;
      },
      onChange(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    set(vm) {
      vms.set(vm.id, vm);
      emit({ kind: "present", id: vm.id, name: vm.name, state: vm.state });
    },
    remove(id) {
      vms.delete(id);
      emit({ kind: "gone", id });
    },
    listeners: () => listeners.size,
    listCalls: () => listCalls,
    holdListing() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
    failListing(err) {
      failure = err;
    },
  };
}
