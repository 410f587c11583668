// Keeps one agent connection per running VM, driven by the hypervisor's lifecycle events (no
// periodic scan): a VM that starts gets a connection (retried with backoff while the guest
// boots), a connected agent is pinged on an interval, a VM that stops loses its connection and
// its cached facts. AgentReady and Telemetry keep each VM's GuestFacts current; the agent
// answering or falling silent becomes an agent_connected / agent_disconnected event.
// RPCs reach the guest through the methods below, which connect on demand.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { AgentMessage } from "../gen/limiquantix/agent/v1/agent_pb.ts";
import { ShutdownType } from "../gen/limiquantix/agent/v1/agent_pb.ts";
import { HypervisorError } from "../hypervisor/errors.ts";
import type { Hypervisor, HypervisorEvent, VmState } from "../hypervisor/types.ts";
import { backoffDelay, type BackoffOptions } from "../common/backoff.ts";
import type { Logger } from "../common/logger.ts";
import { sleep } from "../common/sleep.ts";
import { type AgentConnection, type AgentRequest, openAgentConnection, type PayloadCase, type PayloadOf } from "./agent-connection.ts";
import { findAgentSocket } from "./socket-path.ts";
import type { DirectoryEntry, ExecOptions, ExecResult, FileChunk, FrozenFilesystem, GuestFacts } from "./types.ts";

export const FILE_CHUNK_BYTES = 64 * 1024;

export interface AgentManagerOptions {
  socketDir: string;
  /** libvirt's own channel folders, searched for domains the node did not define. */
  channelRoots?: readonly string[];
  hypervisor: Pick<Hypervisor, "onEvent" | "listVms">;
  /** agent_connected / agent_disconnected. */
  emit: (event: HypervisorEvent) => void;
  log: Logger;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Requests without a timeout of their own (file chunks, shutdown, ping RPC). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect delays while a running VM's agent does not answer. */
  backoff?: BackoffOptions;
  random?: () => number;
}

export type ShutdownKind = "poweroff" | "reboot" | "halt";

export interface AgentManager {
  start(): Promise<void>;
  close(): void;
  /** Cached facts; undefined when the VM's agent never spoke since it started. */
  facts(vmId: string): GuestFacts | undefined;
  connected(vmId: string): boolean;
  ping(vmId: string, opts?: { sequence?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<{ version: string; uptimeSeconds: number }>;
  execute(vmId: string, opts: ExecOptions, signal?: AbortSignal): Promise<ExecResult>;
  /** The file from offset, chunk by chunk (64 KiB), until eof or maxBytes. */
  readFile(vmId: string, path: string, opts?: { offset?: number; maxBytes?: number; signal?: AbortSignal }): AsyncGenerator<FileChunk>;
  /** Writes what `data` yields in 64 KiB chunks; never holds more than one chunk ahead. */
  writeFile(
    vmId: string,
    path: string,
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    opts?: { mode?: number; createParents?: boolean; signal?: AbortSignal },
  ): Promise<{ bytesWritten: number }>;
  shutdown(
    vmId: string,
    kind: ShutdownKind,
    opts?: { delaySeconds?: number; message?: string; signal?: AbortSignal },
  ): Promise<{ accepted: boolean; error: string }>;
  quiesce(
    vmId: string,
    opts?: { mountPoints?: string[]; timeoutSeconds?: number; runScripts?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; token: string; frozen: FrozenFilesystem[]; error: string }>;
  thaw(
    vmId: string,
    opts?: { token?: string; mountPoints?: string[]; runScripts?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; thawed: string[]; frozenDurationMs: number; error: string }>;
  syncTime(
    vmId: string,
    opts?: { force?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; offsetSeconds: number; timeSource: string; error: string }>;
  listDirectory(
    vmId: string,
    path: string,
    opts?: { includeHidden?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; entries: DirectoryEntry[]; error: string }>;
  /** Open connections and pending requests (leak checks). */
  stats(): { connections: number; pending: number };
}

/** States whose QEMU process holds the channel; the agent is reached only while running. */
const HAS_CHANNEL: ReadonlySet<VmState> = new Set(["running", "paused", "shutting_down", "migrating"]);

interface VmAgent {
  id: string;
  name?: string;
  /** The VM runs: keep a connection and reconnect when it drops. */
  wanted: boolean;
  conn?: AgentConnection;
  connecting?: Promise<AgentConnection>;
  /** The guest has sent something on the current connection. */
  answering: boolean;
  facts?: GuestFacts;
  attempt: number;
  retry?: ReturnType<typeof setTimeout>;
  pinger?: ReturnType<typeof setInterval>;
  pinging: boolean;
}

const num = (v: bigint | number) => Number(v);

function emptyFacts(): GuestFacts {
  return { connected: false, ipAddresses: [], interfaces: [], capabilities: [] };
}

/** The guest's addresses as the node reports them: IPv4 first, loopback and link-local left out. */
function addressesOf(interfaces: GuestFacts["interfaces"]): string[] {
  const v4 = interfaces
    .flatMap((i) => i.ipv4Addresses)
    .map((a) => a.split("/")[0] ?? a)
    .filter((a) => !a.startsWith("127."));
  const v6 = interfaces
    .flatMap((i) => i.ipv6Addresses)
    .map((a) => a.split("/")[0] ?? a)
    .filter((a) => a !== "::1" && !a.toLowerCase().startsWith("fe80"));
  return [...v4, ...v6];
}

/** Folds an unsolicited message into the cached facts; returns false for messages that carry none. */
export function applyAgentEvent(facts: GuestFacts, message: AgentMessage): boolean {
  const p = message.payload;
  if (p.case === "agentReady") {
    const r = p.value;
    Object.assign(facts, {
      version: r.version,
      osName: r.osName,
      osVersion: r.osVersion,
      kernelVersion: r.kernelVersion,
      architecture: r.architecture,
      hostname: r.hostname,
      capabilities: [...r.capabilities],
    });
    if (r.ipAddresses.length > 0) facts.ipAddresses = [...r.ipAddresses];
    return true;
  }
  if (p.case === "telemetry") {
    const t = p.value;
    if (t.hostname) facts.hostname = t.hostname;
    facts.interfaces = t.interfaces.map((i) => ({
      name: i.name,
      macAddress: i.macAddress,
      ipv4Addresses: [...i.ipv4Addresses],
      ipv6Addresses: [...i.ipv6Addresses],
      isUp: i.state === 1,
    }));
    const ips = addressesOf(facts.interfaces);
    if (ips.length > 0) facts.ipAddresses = ips;
    facts.usage = {
      cpuUsagePercent: t.cpuUsagePercent,
      memoryTotalBytes: num(t.memoryTotalBytes),
      memoryUsedBytes: num(t.memoryUsedBytes),
      memoryAvailableBytes: num(t.memoryAvailableBytes),
      swapTotalBytes: num(t.swapTotalBytes),
      swapUsedBytes: num(t.swapUsedBytes),
      loadAvg1: t.loadAvg1,
      loadAvg5: t.loadAvg5,
      loadAvg15: t.loadAvg15,
      disks: t.disks.map((d) => ({
        mountPoint: d.mountPoint,
        device: d.device,
        filesystem: d.filesystem,
        totalBytes: num(d.totalBytes),
        usedBytes: num(d.usedBytes),
        availableBytes: num(d.availableBytes),
        usagePercent: d.usagePercent,
      })),
      processCount: t.processCount,
      uptimeSeconds: num(t.uptimeSeconds),
    };
    return true;
  }
  return false;
}

/** Re-chunks any byte source into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let held = new Uint8Array(size);
  let n = 0;
  for await (const piece of source) {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(size - n, piece.length - at);
      held.set(piece.subarray(at, at + take), n);
      n += take;
      at += take;
      if (n === size) {
        yield held;
        held = new Uint8Array(size);
        n = 0;
      }
    }
  }
  if (n > 0) yield held.subarray(0, n);
}

export function createAgentManager(opts: AgentManagerOptions): AgentManager {
  const pingIntervalMs = opts.pingIntervalMs ?? 30_000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 5_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const backoff = opts.backoff ?? { initialMs: 500, maxMs: 10_000 };
  const random = opts.random ?? Math.random;
  const log = opts.log;
  const vms = new Map<string, VmAgent>();
  let unsubscribe: (() => void) | undefined;
  let closed = false;

  function record(id: string): VmAgent {
    let vm = vms.get(id);
    if (!vm) {
      vm = { id, wanted: false, answering: false, attempt: 0, pinging: false };
      vms.set(id, vm);
    }
    return vm;
  }

  function setAnswering(vm: VmAgent, answering: boolean, why: string) {
    if (vm.answering === answering) return;
    vm.answering = answering;
    if (vm.facts) vm.facts.connected = answering;
    log.info(`agent of vm ${vm.id} ${answering ? "connected" : `disconnected: ${why}`}`);
    opts.emit({
      type: answering ? "agent_connected" : "agent_disconnected",
      vmId: vm.id,
      ...(vm.name ? { vmName: vm.name } : {}),
      message: answering
        ? `the guest agent of vm ${vm.name ?? vm.id} answers${vm.facts?.version ? ` (version ${vm.facts.version})` : ""}`
        : `the guest agent of vm ${vm.name ?? vm.id} stopped answering: ${why}`,
    });
  }

  function onMessage(vm: VmAgent, conn: AgentConnection, message: AgentMessage) {
    if (vm.conn !== conn) return;
    vm.facts ??= emptyFacts();
    vm.facts.lastSeen = message.timestamp ? new Date() : new Date();
    if (message.payload.case === "error") {
      const e = message.payload.value;
      log.warn(`agent of vm ${vm.id} reports ${e.code}: ${e.message}`);
    } else applyAgentEvent(vm.facts, message);
    vm.attempt = 0;
    setAnswering(vm, true, "");
  }

  async function openOnce(vm: VmAgent): Promise<AgentConnection> {
    const path = findAgentSocket(opts.socketDir, vm.id, opts.channelRoots);
    if (!path)
      throw new HypervisorError(
        "unavailable",
        `Agent socket not found for vm ${vm.id}: the VM is not running, or was defined without the Quantix agent channel`,
      );
    const conn = await openAgentConnection(path, connectTimeoutMs, {
      onFrame: (m) => onMessage(vm, conn, m),
      onClose: (reason) => {
        if (vm.conn !== conn) return;
        vm.conn = undefined;
        stopPinger(vm);
        setAnswering(vm, false, reason);
        if (vm.wanted && !closed) scheduleRetry(vm);
      },
    });
    if (closed) {
      conn.close("the agent manager is closed");
      throw new HypervisorError("unavailable", "the agent manager is closed");
    }
    vm.conn = conn;
    return conn;
  }

  /** On demand: up to 3 attempts, 500 ms then 1 s apart (contract 4.2). */
  async function connection(id: string): Promise<AgentConnection> {
    if (closed) throw new HypervisorError("unavailable", "the agent manager is closed");
    const vm = record(id);
    if (vm.conn && !vm.conn.closed) return vm.conn;
    if (vm.connecting) return vm.connecting;
    vm.connecting = (async () => {
      let last: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) await sleep(500 * 2 ** (attempt - 1));
        try {
          const conn = await openOnce(vm);
          afterConnect(vm, conn);
          return conn;
        } catch (err) {
          last = err;
        }
      }
      throw last;
    })().finally(() => {
      vm.connecting = undefined;
    });
    return vm.connecting;
  }

  function afterConnect(vm: VmAgent, conn: AgentConnection) {
    // Sequence 1 asks the guest for a telemetry report now: the facts fill in without waiting.
    conn.call({ case: "ping", value: { sequence: 1n } }, "pong", pingTimeoutMs).catch(() => undefined);
    startPinger(vm);
  }

  function startPinger(vm: VmAgent) {
    stopPinger(vm);
    vm.pinger = setInterval(() => void pingOnce(vm), pingIntervalMs);
    (vm.pinger as { unref?: () => void }).unref?.();
  }

  function stopPinger(vm: VmAgent) {
    if (vm.pinger) clearInterval(vm.pinger);
    vm.pinger = undefined;
  }

  async function pingOnce(vm: VmAgent) {
    const conn = vm.conn;
    if (!conn || conn.closed || vm.pinging) return;
    vm.pinging = true;
    try {
      await conn.call({ case: "ping", value: { sequence: 0n } }, "pong", pingTimeoutMs);
    } catch (err) {
      // Silent guest (rebooting, agent gone): drop the connection; onClose reconnects.
      if (vm.conn === conn) conn.close(`no answer to a ping: ${(err as Error).message}`);
    } finally {
      vm.pinging = false;
    }
  }

  function scheduleRetry(vm: VmAgent) {
    if (vm.retry || closed || !vm.wanted) return;
    const delay = backoffDelay(vm.attempt++, backoff, random);
    vm.retry = setTimeout(() => {
      vm.retry = undefined;
      if (!vm.wanted || closed || (vm.conn && !vm.conn.closed)) return;
      connection(vm.id).catch((err) => {
        log.debug(`agent of vm ${vm.id}: ${(err as Error).message}`);
        scheduleRetry(vm);
      });
    }, delay);
  }

  function watch(id: string, name?: string) {
    const vm = record(id);
    if (name) vm.name = name;
    if (vm.wanted) return;
    vm.wanted = true;
    vm.attempt = 0;
    vm.facts ??= emptyFacts();
    connection(id).catch(() => scheduleRetry(vm));
  }

  function unwatch(id: string, why: string, forget: boolean) {
    const vm = vms.get(id);
    if (!vm) return;
    vm.wanted = false;
    if (vm.retry) clearTimeout(vm.retry);
    vm.retry = undefined;
    stopPinger(vm);
    const conn = vm.conn;
    vm.conn = undefined;
    conn?.close(why);
    setAnswering(vm, false, why);
    vm.facts = undefined;
    if (forget) vms.delete(id);
  }

  function onHypervisorEvent(e: HypervisorEvent) {
    if (!e.vmId || closed) return;
    if (e.type === "vm_deleted") return unwatch(e.vmId, "the VM was deleted", true);
    if (e.type !== "vm_state_changed" || e.state === undefined) return;
    if (e.state === "running") watch(e.vmId, e.vmName);
    else if (!HAS_CHANNEL.has(e.state)) unwatch(e.vmId, `the VM is ${e.state}`, false);
  }

  async function call<R extends PayloadCase>(id: string, request: AgentRequest, reply: R, timeoutMs: number, signal?: AbortSignal): Promise<PayloadOf<R>> {
    const conn = await connection(id);
    return conn.call(request, reply, timeoutMs, signal);
  }

  return {
    async start() {
      unsubscribe = opts.hypervisor.onEvent(onHypervisorEvent);
      // Catch up with VMs already running (daemon restart): events only tell what changes.
      const running = await opts.hypervisor.listVms({ states: ["running"] }).catch((err) => {
        log.warn("agent manager: cannot list running VMs", err);
        return [];
      });
      for (const vm of running) watch(vm.id, vm.name);
    },
    close() {
      closed = true;
      unsubscribe?.();
      for (const id of [...vms.keys()]) unwatch(id, "the daemon is stopping", true);
    },
    facts(id) {
      const f = vms.get(id)?.facts;
      return f && (f.connected || f.lastSeen) ? { ...f } : undefined;
    },
    connected: (id) => vms.get(id)?.answering === true,
    async ping(id, o = {}) {
      const pong = await call(id, { case: "ping", value: { sequence: BigInt(o.sequence ?? 0) } }, "pong", o.timeoutMs ?? requestTimeoutMs, o.signal);
      return { version: pong.version, uptimeSeconds: num(pong.uptimeSeconds) };
    },
    async execute(id, o, signal) {
      const timeoutSeconds = o.timeoutSeconds || 60;
      const started = performance.now();
      const r = await call(
        id,
        {
          case: "execute",
          value: {
            command: o.command,
            args: o.args ?? [],
            workingDirectory: o.workingDirectory ?? "",
            environment: o.environment ?? {},
            timeoutSeconds,
            waitForExit: o.waitForExit ?? true,
            includeSupplementaryGroups: true,
          },
        },
        "executeResponse",
        (timeoutSeconds + 5) * 1000,
        signal,
      );
      return {
        exitCode: r.exitCode,
        stdout: r.stdout,
        stderr: r.stderr,
        timedOut: r.timedOut,
        truncated: r.truncated,
        durationMs: num(r.durationMs) || Math.round(performance.now() - started),
        error: r.error,
      };
    },
    async *readFile(id, path, o = {}) {
      let offset = o.offset ?? 0;
      const limit = o.maxBytes && o.maxBytes > 0 ? offset + o.maxBytes : Number.POSITIVE_INFINITY;
      for (;;) {
        const want = Math.min(FILE_CHUNK_BYTES, limit - offset);
        const r = await call(
          id,
          { case: "fileRead", value: { path, offset: BigInt(offset), length: BigInt(want), chunkSize: FILE_CHUNK_BYTES } },
          "fileReadResponse",
          requestTimeoutMs,
          o.signal,
        );
        if (!r.success) throw new HypervisorError("invalid_argument", `guest file ${path}: ${r.error || "read failed"}`, "path");
        offset += r.data.length;
        const eof = r.eof || offset >= num(r.totalSize) || offset >= limit;
        yield { data: r.data, offset: offset - r.data.length, totalSize: num(r.totalSize), eof };
        if (eof) return;
        if (r.data.length === 0) throw new HypervisorError("internal", `guest file ${path}: the agent sent an empty chunk before the end`);
      }
    },
    async writeFile(id, path, data, o = {}) {
      let written = 0;
      let index = 0;
      const send = async (chunk: Uint8Array, eof: boolean) => {
        const r = await call(
          id,
          {
            case: "fileWrite",
            value: {
              path,
              data: chunk,
              offset: BigInt(written),
              eof,
              mode: o.mode || 0o644,
              createParents: o.createParents ?? true,
              chunkNumber: index,
              totalChunks: 0,
            },
          },
          "fileWriteResponse",
          requestTimeoutMs,
          o.signal,
        );
        if (!r.success) throw new HypervisorError("invalid_argument", `guest file ${path}: ${r.error || "write failed"}`, "path");
        written += chunk.length;
        index++;
      };
      // One chunk of look-ahead: the last chunk carries eof.
      let held: Uint8Array | undefined;
      for await (const chunk of rechunk(data, FILE_CHUNK_BYTES)) {
        if (held) await send(held, false);
        held = chunk;
      }
      await send(held ?? new Uint8Array(0), true);
      return { bytesWritten: written };
    },
    async shutdown(id, kind, o = {}) {
      const type = kind === "reboot" ? ShutdownType.REBOOT : kind === "halt" ? ShutdownType.HALT : ShutdownType.POWEROFF;
      const r = await call(
        id,
        { case: "shutdown", value: { type, delaySeconds: o.delaySeconds ?? 0, message: o.message ?? "" } },
        "shutdownResponse",
        requestTimeoutMs,
        o.signal,
      );
      return { accepted: r.accepted, error: r.error };
    },
    async quiesce(id, o = {}) {
      const timeoutSeconds = o.timeoutSeconds || 30;
      const r = await call(
        id,
        { case: "quiesce", value: { mountPoints: o.mountPoints ?? [], timeoutSeconds, runPreFreezeScripts: o.runScripts ?? false } },
        "quiesceResponse",
        (timeoutSeconds + 10) * 1000,
        o.signal,
      );
      return {
        success: r.success,
        token: r.quiesceToken,
        frozen: r.frozen.map((f) => ({ mountPoint: f.mountPoint, device: f.device, filesystem: f.filesystem, frozen: f.frozen, error: f.error })),
        error: r.error,
      };
    },
    async thaw(id, o = {}) {
      const r = await call(
        id,
        { case: "thaw", value: { quiesceToken: o.token ?? "", mountPoints: o.mountPoints ?? [], runPostThawScripts: o.runScripts ?? false } },
        "thawResponse",
        requestTimeoutMs,
        o.signal,
      );
      return { success: r.success, thawed: [...r.thawedMountPoints], frozenDurationMs: num(r.frozenDurationMs), error: r.error };
    },
    async syncTime(id, o = {}) {
      const r = await call(id, { case: "syncTime", value: { force: o.force ?? false } }, "syncTimeResponse", 10_000, o.signal);
      return { success: r.success, offsetSeconds: r.offsetSeconds, timeSource: r.timeSource, error: r.error };
    },
    async listDirectory(id, path, o = {}) {
      const r = await call(
        id,
        { case: "listDirectory", value: { path, includeHidden: o.includeHidden ?? false } },
        "listDirectoryResponse",
        requestTimeoutMs,
        o.signal,
      );
      return {
        success: r.success,
        error: r.error,
        entries: r.entries.map((e) => ({
          name: e.name,
          path: e.path,
          isDirectory: e.isDirectory,
          isSymlink: e.isSymlink,
          sizeBytes: num(e.sizeBytes),
          mode: e.mode,
          ...(e.modifiedAt ? { modifiedAt: timestampDate(e.modifiedAt) } : {}),
          ...(e.owner ? { owner: e.owner } : {}),
          ...(e.group ? { group: e.group } : {}),
        })),
      };
    },
    stats() {
      let connections = 0;
      let pending = 0;
      for (const vm of vms.values()) {
        if (vm.conn && !vm.conn.closed) {
          connections++;
          pending += vm.conn.pending();
        }
      }
      return { connections, pending };
    },
  };
}

/** For an API built without agents: every call is UNAVAILABLE, no VM has facts. */
export function disabledAgentManager(): AgentManager {
  const off = async (): Promise<never> => {
    throw new HypervisorError("unavailable", "this daemon runs without the guest agent manager");
  };
  return {
    start: async () => {},
    close() {},
    facts: () => undefined,
    connected: () => false,
    ping: off,
    execute: off,
    // biome-ignore lint/correctness/useYield: it only fails
    async *readFile() {
      await off();
    },
    writeFile: off,
    shutdown: off,
    quiesce: off,
    thaw: off,
    syncTime: off,
    listDirectory: off,
    stats: () => ({ connections: 0, pending: 0 }),
  };
}
