// The client's pure parts in-process: addresses, VM name resolution, formatting, the console
// hints, the migration bar, the metrics view, event lines, flags, and the event follower's
// reconnect logic.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import { parseAddress } from "../../../src/cli/client/connection.ts";
import { streamStart } from "../../../src/cli/client/events-command.ts";
import { eventLine, followEvents, type FollowDeps } from "../../../src/cli/client/events-follow.ts";
import { backoffCeiling } from "../../../src/common/backoff.ts";
import { bytes, duration, enumChoices, parseDurationMs, parseEnum, parseSize, table } from "../../../src/cli/client/format.ts";
import { metricsJson } from "../../../src/cli/client/metrics-command.ts";
import { renderMetrics } from "../../../src/cli/client/metrics-view.ts";
import { pickVm } from "../../../src/cli/client/resolve-vm.ts";
import { diskFromFlags, mediaFromFlags, nicFromFlags } from "../../../src/cli/client/vm-device-commands.ts";
import { consoleHowTo } from "../../../src/cli/client/vm-console-command.ts";
import { progressLine } from "../../../src/cli/client/vm-migrate-command.ts";
import { stateOf } from "../../../src/cli/client/vm-state.ts";
import { describeFailure } from "../../../src/cli/client/failures.ts";
import { UsageError } from "../../../src/cli/usage-error.ts";
import {
  ConsoleInfoResponseSchema,
  CpuModeSchema,
  DiskBus,
  DiskBusSchema,
  EventType,
  FirmwareSchema,
  MigrationPhase,
  MigrationProgressSchema,
  type NodeEvent,
  NodeEventSchema,
  NodeMetricsSchema,
  PowerState,
  PowerStateSchema,
  VMStatusResponseSchema,
  VMTransition,
} from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";

describe("parseAddress", () => {
  test.each([
    ["127.0.0.1:9090", false, "http://127.0.0.1:9090", "127.0.0.1:9090"],
    ["node-1", false, "http://node-1:9090", "node-1:9090"],
    ["[::1]:7000", false, "http://[::1]:7000", "[::1]:7000"],
    ["https://node-1.example:9443", false, "https://node-1.example:9443", "node-1.example:9443"],
    ["http://node-1", false, "http://node-1:80", "node-1:80"],
    ["10.0.0.5:9090", true, "https://10.0.0.5:9090", "10.0.0.5:9090"],
  ])("%s (tls %p)", (addr, tls, baseUrl, display) => {
    const t = parseAddress(addr, tls);
    expect(t.baseUrl).toBe(baseUrl);
    expect(t.display).toBe(display);
  });
  test("refuses what is not host:port or an http(s) URL", () => {
    for (const bad of ["", "ftp://x:1", "http://x:1/path", "a b:1"]) expect(() => parseAddress(bad)).toThrow();
  });
});

describe("pickVm", () => {
  const vm = (name: string, vmId: string) => create(VMStatusResponseSchema, { name, vmId });
  const vms = [
    vm("web-1", "0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11"),
    vm("web-10", "1c6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11"),
    vm("db", "0b6f9999-8c1d-4c9a-9d53-2a4d2f0e7a11"),
  ];
  test("an exact name wins over prefixes; unique prefixes of names and ids resolve", () => {
    expect(pickVm("web-1", vms).name).toBe("web-1");
    expect(pickVm("web-10", vms).name).toBe("web-10");
    expect(pickVm("d", vms).name).toBe("db");
    expect(pickVm("1C6F", vms).name).toBe("web-10");
  });
  test("ambiguous (exit 2) and unknown (exit 1) name the candidates", () => {
    const ambiguous = describeFailure(
      captured(() => pickVm("0b6f", vms)),
      undefined,
    );
    expect(ambiguous).toEqual({ message: expect.stringContaining('"0b6f" is ambiguous: it matches web-1 (0b6f3f4e-') as string, exitCode: 2 });
    expect(ambiguous.message).toContain("db (0b6f9999-");
    const unknown = describeFailure(
      captured(() => pickVm("mail", vms)),
      undefined,
    );
    expect(unknown.exitCode).toBe(1);
    expect(unknown.message).toStartWith('not_found: no vm named "mail" on this node (vms on this node: web-1 (');
    expect(
      describeFailure(
        captured(() => pickVm("x", [])),
        undefined,
      ).message,
    ).toContain("there are no vms on this node");
  });
  test("short id prefixes (under 4 characters) do not match ids", () => {
    expect(() => pickVm("0b6", [vm("x", "0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11")])).toThrow(/no vm named/);
  });
});

function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("format", () => {
  test("sizes, durations, tables", () => {
    expect(bytes(0)).toBe("0 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(bytes(10n * 1024n ** 3n)).toBe("10.0 GiB");
    expect(duration(93784)).toBe("1d 2h");
    expect(duration(59)).toBe("59s");
    expect(parseSize("10G")).toBe(10 * 1024 ** 3);
    expect(parseSize("512MiB")).toBe(512 * 1024 ** 2);
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("ten")).toBeUndefined();
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("2m")).toBe(120_000);
    expect(parseDurationMs("30")).toBe(30_000);
    expect(table(["A", "BB"], [["xyz", "1"]])).toBe("A    BB\nxyz  1\n");
  });

  test("enum names: the contract's meaningful zeros are choices, UNSPECIFIED and UNKNOWN are not", () => {
    expect(parseEnum(DiskBusSchema, "virtio")).toBe(DiskBus.VIRTIO);
    expect(parseEnum(DiskBusSchema, "DISK_BUS_SATA")).toBe(DiskBus.SATA);
    expect(enumChoices(FirmwareSchema)).toEqual(["bios", "uefi"]);
    expect(enumChoices(PowerStateSchema)).toEqual(["running", "stopped", "paused", "suspended", "crashed"]);
    expect(parseEnum(PowerStateSchema, "unknown")).toBeUndefined();
    expect(parseEnum(CpuModeSchema, "unspecified")).toBeUndefined();
    expect(parseEnum(CpuModeSchema, "host-passthrough")).toBe(1);
  });

  test("a VM's state: the power state lower-cased, a transition wins", () => {
    expect(stateOf({ state: PowerState.RUNNING, transition: VMTransition.VM_TRANSITION_NONE })).toBe("running");
    expect(stateOf({ state: PowerState.RUNNING, transition: VMTransition.VM_TRANSITION_SHUTTING_DOWN })).toBe("shutting down");
    expect(stateOf({ state: PowerState.RUNNING, transition: VMTransition.VM_TRANSITION_MIGRATING })).toBe("migrating");
    expect(stateOf({ state: PowerState.UNKNOWN, transition: VMTransition.VM_TRANSITION_NONE })).toBe("unknown");
  });
});

describe("consoleHowTo", () => {
  test("VNC: type, host, port, password; vncviewer gets host::port", () => {
    const text = consoleHowTo(create(ConsoleInfoResponseSchema, { type: "vnc", host: "10.0.0.5", port: 5901, password: "pw" }), "x");
    expect(text).toBe(
      [
        "type:      vnc",
        "host:      10.0.0.5",
        "port:      5901",
        "password:  pw",
        "connect:   vncviewer 10.0.0.5::5901",
        "or:        remote-viewer vnc://10.0.0.5:5901",
        "",
      ].join("\n"),
    );
  });
  test("a console on every address is reached through the daemon's host", () => {
    const text = consoleHowTo(create(ConsoleInfoResponseSchema, { type: "vnc", host: "0.0.0.0", port: 5901 }), "node-1.example");
    expect(text).toContain("host:     node-1.example\n");
    expect(text).toContain("connect:  vncviewer node-1.example::5901\n");
  });
  test("SPICE on IPv6", () => {
    const text = consoleHowTo(create(ConsoleInfoResponseSchema, { type: "spice", host: "fd00::5", port: 5930 }), "x");
    expect(text).toContain("remote-viewer spice://[fd00::5]:5930");
    expect(text).not.toContain("password");
  });
});

describe("progressLine", () => {
  test("draws a bar on a terminal and plain text in a pipe", () => {
    const p = create(MigrationProgressSchema, {
      phase: MigrationPhase.TRANSFERRING,
      percentComplete: 40,
      dataTotalBytes: 2048n * 1024n * 1024n,
      dataTransferredBytes: 819n * 1024n * 1024n,
      message: "m",
    });
    expect(progressLine(p, true)).toBe(`[${"#".repeat(12)}${".".repeat(18)}]  40% transferring 819 MiB / 2.0 GiB`);
    expect(progressLine(p, false)).toBe("migration:  40% transferring 819 MiB / 2.0 GiB — m");
  });
  test("without a total, done plus remaining is the total; phase 0 is preparing", () => {
    const p = create(MigrationProgressSchema, { percentComplete: 0, dataTransferredBytes: 0n, dataRemainingBytes: 1024n });
    expect(progressLine(p, false)).toBe("migration:   0% preparing 0 B / 1.0 KiB");
  });
});

describe("renderMetrics", () => {
  const sample = (disk: bigint, at: number, cpuMeasured = true) =>
    create(NodeMetricsSchema, {
      timestamp: timestampFromMs(at),
      cpuMeasured,
      cpuUsagePercent: cpuMeasured ? 50 : 0,
      memoryTotalBytes: 1024n ** 3n,
      memoryUsedBytes: 256n * 1024n ** 2n,
      vms: [{ vmId: "a", name: "web-1", state: PowerState.RUNNING, vcpus: 2, diskReadBytes: disk }],
    });

  test("computes per-VM rates from the previous sample and cuts lines to the width", () => {
    const lines = renderMetrics(sample(4096n, 2000), sample(2048n, 1000), { width: 200, address: "h:1", intervalMs: 1000, live: false });
    expect(lines).toContainEqual(expect.stringMatching(/^host cpu\s+50\.0% \[#{10}\.{10}\]/));
    expect(lines).toContainEqual(expect.stringMatching(/^host memory\s+25\.0% \[#{5}\.{15}\]\s+256 MiB used of 1\.0 GiB/));
    expect(lines).toContainEqual(expect.stringMatching(/^web-1\s+running\s+2\s+0\.0%\s+0 B \/ 0 B\s+2\.0 KiB\/s \/ 0 B\/s/));
    const first = renderMetrics(sample(4096n, 2000), undefined, { width: 30, address: "h:1", intervalMs: 1000, live: true });
    for (const l of first) expect(l.length).toBeLessThanOrEqual(30);
  });

  test("a host CPU figure not measured yet is –, never 0%; its JSON leaves the key out", () => {
    const m = sample(0n, 1000, false);
    const lines = renderMetrics(m, undefined, { width: 200, address: "h:1", intervalMs: 1000, live: false });
    const cpu = lines.find((l) => l.startsWith("host cpu"))!;
    expect(cpu).toMatch(/^host cpu\s+– \(measuring\)/);
    expect(cpu).not.toContain("0.0%");
    expect(JSON.parse(metricsJson(m))).not.toHaveProperty("cpuUsagePercent");
    expect(JSON.parse(metricsJson(m))).toMatchObject({ cpuMeasured: false, runningVms: 0 });
    expect(JSON.parse(metricsJson(sample(0n, 1000, true)))).toMatchObject({ cpuMeasured: true, cpuUsagePercent: 50 });
  });

  test("figures the daemon could not read (absent_fields) are –, never 0; their JSON keys are left out", () => {
    const m = create(NodeMetricsSchema, {
      ...sample(0n, 1000),
      absentFields: ["memory_available_bytes", "swap_total_bytes", "swap_used_bytes", "disks", "networks", "vms", "running_vms", "total_vms"],
      vms: [],
    });
    const lines = renderMetrics(m, undefined, { width: 200, address: "h:1", intervalMs: 1000, live: false });
    const memory = lines.find((l) => l.startsWith("host memory"))!;
    expect(memory).toContain("256 MiB used of 1.0 GiB");
    expect(memory).not.toContain("available");
    expect(lines).toContainEqual("disks        – (not readable on this host)");
    expect(lines).toContainEqual("network      – (not readable on this host)");
    expect(lines.find((l) => l.startsWith("host uptime"))).toMatch(/vms –$/);
    expect(lines).toContainEqual(expect.stringContaining("VM figures unavailable"));
    const json = JSON.parse(metricsJson(m)) as Record<string, unknown>;
    for (const key of ["memoryAvailableBytes", "swapTotalBytes", "swapUsedBytes", "disks", "networks", "vms", "runningVms", "totalVms"])
      expect(json).not.toHaveProperty(key);
    expect(json).toMatchObject({ memoryTotalBytes: String(1024 ** 3), cpuUsagePercent: 50 });
  });

  test("one sample printed once gives the rates' interval, not a refresh period", () => {
    const once = renderMetrics(sample(0n, 1000), undefined, { width: 200, address: "h:1", intervalMs: 1000, live: false, once: true });
    expect(once[0]).toContain("rates over 1s");
    expect(once[0]).not.toContain("every");
    const watching = renderMetrics(sample(0n, 1000), undefined, { width: 200, address: "h:1", intervalMs: 500, live: true });
    expect(watching[0]).toContain("every 500ms");
  });
});

describe("eventLine and --since", () => {
  test("a line begins with the sequence number and shows the state change", () => {
    const e = create(NodeEventSchema, {
      id: "12",
      sequence: 12n,
      timestamp: timestampFromMs(Date.UTC(2026, 10, 22, 2, 3, 4)),
      type: EventType.VM_STARTED,
      vmName: "web-1",
      state: PowerState.RUNNING,
      previousState: PowerState.STOPPED,
      message: "vm web-1 started",
    });
    expect(eventLine(e)).toBe("#12 2026-11-22T02:03:04Z vm_started web-1 (stopped -> running) vm web-1 started");
    const shutting = create(NodeEventSchema, {
      ...e,
      type: EventType.VM_STATE_CHANGED,
      previousState: PowerState.RUNNING,
      transition: VMTransition.VM_TRANSITION_SHUTTING_DOWN,
      message: "",
    });
    expect(eventLine(shutting)).toBe("#12 2026-11-22T02:03:04Z vm_state_changed web-1 (running -> shutting down)");
    expect(eventLine(create(NodeEventSchema, { sequence: 3n, type: EventType.NODE, message: "libvirt back" }))).toBe("#3 - node - libvirt back");
  });

  test("--since N resumes after N; --since 0 and --since-start read from the oldest", () => {
    expect(streamStart(undefined, false)).toEqual({ afterSequence: 0n, fromOldest: false });
    expect(streamStart("42", false)).toEqual({ afterSequence: 42n, fromOldest: false });
    expect(streamStart("0", false)).toEqual({ afterSequence: 0n, fromOldest: true });
    expect(streamStart(undefined, true)).toEqual({ afterSequence: 0n, fromOldest: true });
    expect(() => streamStart("x", false)).toThrow(UsageError);
    expect(() => streamStart("4", true)).toThrow("not both");
  });
});

describe("device flags", () => {
  test("attach-disk: a new image in GiB (rounded up), an existing path, or a volume created when missing", async () => {
    expect(await diskFromFlags({ "disk-id": "d", size: "1500M", bus: "sata" })).toMatchObject({ id: "d", sizeGib: 2n, bus: DiskBus.SATA, path: "" });
    expect(await diskFromFlags({ "disk-id": "d", path: "/var/lib/limiquantix/vms/d.qcow2" })).toMatchObject({
      path: "/var/lib/limiquantix/vms/d.qcow2",
      sizeGib: 0n,
    });
    expect(await diskFromFlags({ "disk-id": "d", path: "logs", size: "2G", pool: "fast" })).toMatchObject({ path: "logs", sizeGib: 2n, poolId: "fast" });
    await expect(diskFromFlags({ "disk-id": "d", path: "/x.img", format: "raw" })).rejects.toThrow("--format is for a new image");
    await expect(diskFromFlags({ "disk-id": "D!", size: "1G" })).rejects.toThrow("disk.id: must be 1-32 characters");
  });
  test("attach-nic: bridge or network, not both; neither is the node's default network", async () => {
    expect(await nicFromFlags({ "nic-id": "eth1" })).toMatchObject({ id: "eth1", bridge: "", network: "" });
    await expect(nicFromFlags({ "nic-id": "eth1", bridge: "br0", network: "default" })).rejects.toThrow("not both");
    await expect(nicFromFlags({ "nic-id": "eth1", mac: "53:54:00:00:00:01" })).rejects.toThrow("nic.mac_address: must be a unicast address");
  });
  test("media: one drive and one action", () => {
    expect(mediaFromFlags({ cdrom: "installer", iso: "iso/d.iso" })).toEqual({ cdromId: "installer", device: "", isoPath: "iso/d.iso" });
    expect(mediaFromFlags({ device: "sdc", eject: true })).toEqual({ cdromId: "", device: "sdc", isoPath: "" });
    expect(() => mediaFromFlags({ cdrom: "a", device: "sdb", eject: true })).toThrow("one of them");
    expect(() => mediaFromFlags({ cdrom: "a", iso: "x.iso", eject: true })).toThrow("--iso PATH (insert) or --eject");
    expect(() => mediaFromFlags({ cdrom: "a", iso: "" })).toThrow("--iso is empty");
  });
});

describe("followEvents", () => {
  const event = (n: number) => create(NodeEventSchema, { id: String(n), sequence: BigInt(n), message: `e${n}` });
  const after = (n: number) => ({ afterSequence: BigInt(n), fromOldest: false });
  const OLDEST = { afterSequence: 0n, fromOldest: true };

  function fake(script: Array<NodeEvent[] | Error | "end">, pings: Array<Error | "ok">) {
    const opened: { afterSequence: bigint; fromOldest: boolean }[] = [];
    const printed: bigint[] = [];
    const notices: string[] = [];
    const sleeps: number[] = [];
    const stop = new AbortController();
    const deps: FollowDeps = {
      async *open(from) {
        opened.push(from);
        const step = script.shift();
        if (step === undefined) {
          stop.abort();
          return;
        }
        if (step instanceof Error) throw step;
        if (step !== "end") yield* step;
      },
      async ping() {
        const p = pings.shift() ?? "ok";
        if (p instanceof Error) throw p;
      },
      print: (e) => void printed.push(e.sequence),
      notice: (t) => void notices.push(t),
      sleep: async (ms) => void sleeps.push(ms),
      signal: stop.signal,
      follow: true,
      since: after(0),
      idleMs: 10,
      backoff: { initialMs: 100, maxMs: 400, maxAttempts: 3 },
    };
    return { deps, opened, printed, notices, sleeps };
  }

  const down = () => new ConnectError("connect ECONNREFUSED", Code.Unavailable);

  test("after the stream ends or fails it resumes after the last sequence printed, with growing waits", async () => {
    const f = fake([[event(1), event(2)], "end", [event(3)], down(), [event(4)]], [down(), "ok"]);
    await followEvents(f.deps);
    expect(f.printed).toEqual([1n, 2n, 3n, 4n]);
    expect(f.opened).toEqual([after(0), after(2), after(2), after(3), after(3), after(4)]);
    // The first reconnect needed two pings (the daemon was still down at the first).
    expect(f.sleeps).toEqual([100, 200, 100, 100, 100, 100]);
    expect(f.notices.filter((n) => n.startsWith("reconnected")).map((n) => n.slice(-2))).toEqual(["#2", "#2", "#3", "#3", "#4"]);
  });

  test("gives up after maxAttempts failed pings in a row with the last error", async () => {
    const f = fake(["end"], [down(), down(), down()]);
    await expect(followEvents(f.deps)).rejects.toThrow("ECONNREFUSED");
    expect(f.sleeps).toEqual([100, 200, 400]);
    // The 10th wait would be capped at maxMs.
    expect(backoffCeiling(9, f.deps.backoff)).toBe(400);
  });

  test("events no longer buffered (OUT_OF_RANGE, e.g. a restarted daemon): a notice, then from the oldest it has", async () => {
    const f = fake([new ConnectError("gone", Code.OutOfRange), [event(1), event(2)]], []);
    f.deps.since = after(5);
    await followEvents(f.deps);
    expect(f.opened).toEqual([after(5), OLDEST, after(2)]);
    expect(f.printed).toEqual([1n, 2n]);
    expect(f.notices[0]).toContain("are no longer all buffered");
  });

  test("from the oldest, until something is printed; a reconnect before that starts from the oldest again", async () => {
    const f = fake(["end", [event(7)]], ["ok"]);
    f.deps.since = OLDEST;
    await followEvents(f.deps);
    expect(f.opened).toEqual([OLDEST, OLDEST, after(7)]);
    expect(f.notices).toContain("reconnected; resuming from the oldest buffered event");
  });

  test("a refusal that retrying cannot fix (INVALID_ARGUMENT) ends it at once", async () => {
    const f = fake([new ConnectError("bad", Code.InvalidArgument)], []);
    await expect(followEvents(f.deps)).rejects.toThrow("bad");
    expect(f.sleeps).toEqual([]);
  });
});
