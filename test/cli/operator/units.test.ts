// The client's pure parts in-process: addresses, VM name resolution, formatting, the console
// hints, the migration bar, the metrics view, and the event follower's reconnect logic.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import { parseAddress } from "../../../src/cli/client/connection.ts";
import { backoffMs, followEvents, type FollowDeps } from "../../../src/cli/client/events-follow.ts";
import { bytes, duration, parseDurationMs, parseSize, table } from "../../../src/cli/client/format.ts";
import { renderMetrics } from "../../../src/cli/client/metrics-view.ts";
import { pickVm } from "../../../src/cli/client/resolve-vm.ts";
import { consoleHowTo } from "../../../src/cli/client/vm-console-command.ts";
import { progressLine } from "../../../src/cli/client/vm-migrate-command.ts";
import { describeFailure } from "../../../src/cli/client/failures.ts";
import {
  ConsoleInfoSchema,
  ConsoleType,
  MetricsSampleSchema,
  MigrationPhase,
  MigrationProgressSchema,
  type NodeEvent,
  NodeEventSchema,
  VMState,
  VMStatusSchema,
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
  const vm = (name: string, vmId: string) => create(VMStatusSchema, { name, vmId });
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
    const ambiguous = describeFailure(captured(() => pickVm("0b6f", vms)), undefined);
    expect(ambiguous).toEqual({ message: expect.stringContaining('"0b6f" is ambiguous: it matches web-1 (0b6f3f4e-') as string, exitCode: 2 });
    expect(ambiguous.message).toContain("db (0b6f9999-");
    const unknown = describeFailure(captured(() => pickVm("mail", vms)), undefined);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.message).toStartWith('not_found: no vm named "mail" on this node (vms on this node: web-1 (');
    expect(describeFailure(captured(() => pickVm("x", [])), undefined).message).toContain("there are no vms on this node");
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
});

describe("consoleHowTo", () => {
  test("VNC on a wildcard address is reached through the daemon's host; vncviewer gets host::port", () => {
    const text = consoleHowTo(create(ConsoleInfoSchema, { type: ConsoleType.VNC, host: "0.0.0.0", port: 5901, password: "pw" }), "10.0.0.5");
    expect(text).toContain("address:   10.0.0.5:5901");
    expect(text).toContain("password:  pw");
    expect(text).toContain("connect:   vncviewer 10.0.0.5::5901");
    expect(text).toContain("remote-viewer vnc://10.0.0.5:5901");
  });
  test("SPICE on IPv6", () => {
    const text = consoleHowTo(create(ConsoleInfoSchema, { type: ConsoleType.SPICE, host: "fd00::5", port: 5930 }), "x");
    expect(text).toContain("remote-viewer spice://[fd00::5]:5930");
    expect(text).not.toContain("password");
  });
});

test("progressLine draws a bar on a terminal and plain text in a pipe", () => {
  const p = create(MigrationProgressSchema, { phase: MigrationPhase.TRANSFERRING, percent: 40, dataTotalBytes: 2048n * 1024n * 1024n, dataProcessedBytes: 819n * 1024n * 1024n, message: "m" });
  expect(progressLine(p, true)).toBe(`[${"#".repeat(12)}${".".repeat(18)}]  40% transferring 819 MiB / 2.0 GiB`);
  expect(progressLine(p, false)).toBe("migration:  40% transferring 819 MiB / 2.0 GiB — m");
});

test("renderMetrics computes per-VM rates from the previous sample and cuts lines to the width", () => {
  const vm = (disk: bigint, at: number) =>
    create(MetricsSampleSchema, {
      timestamp: timestampFromMs(at),
      node: { cpuUsagePercent: 50, memoryTotalBytes: 1024n ** 3n, memoryUsedBytes: 256n * 1024n ** 2n },
      vms: [{ vmId: "a", name: "web-1", state: VMState.VM_STATE_RUNNING, vcpus: 2, diskReadBytes: disk }],
    });
  const lines = renderMetrics(vm(4096n, 2000), vm(2048n, 1000), { width: 200, address: "h:1", intervalMs: 1000, live: false });
  expect(lines).toContainEqual(expect.stringMatching(/^host cpu\s+50\.0% \[#{10}\.{10}\]/));
  expect(lines).toContainEqual(expect.stringMatching(/^host memory\s+25\.0% \[#{5}\.{15}\]\s+256 MiB used of 1\.0 GiB/));
  expect(lines).toContainEqual(expect.stringMatching(/^web-1\s+running\s+2\s+0\.0%\s+0 B \/ 0 B\s+2\.0 KiB\/s \/ 0 B\/s/));
  const first = renderMetrics(vm(4096n, 2000), undefined, { width: 30, address: "h:1", intervalMs: 1000, live: true });
  for (const l of first) expect(l.length).toBeLessThanOrEqual(30);
});

describe("followEvents", () => {
  const event = (id: number) => create(NodeEventSchema, { id: BigInt(id), message: `e${id}` });

  function fake(script: Array<NodeEvent[] | Error | "end">, pings: Array<Error | "ok">) {
    const opened: bigint[] = [];
    const printed: bigint[] = [];
    const notices: string[] = [];
    const sleeps: number[] = [];
    const stop = new AbortController();
    const deps: FollowDeps = {
      async *open(after) {
        opened.push(after);
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
      print: (e) => void printed.push(e.id),
      notice: (t) => void notices.push(t),
      sleep: async (ms) => void sleeps.push(ms),
      signal: stop.signal,
      follow: true,
      since: 0n,
      idleMs: 10,
      backoff: { initialMs: 100, maxMs: 400, maxAttempts: 3 },
    };
    return { deps, opened, printed, notices, sleeps };
  }

  const down = () => new ConnectError("connect ECONNREFUSED", Code.Unavailable);

  test("after the stream ends or fails it resumes after the last id printed, with growing waits", async () => {
    const f = fake([[event(1), event(2)], "end", [event(3)], down(), [event(4)]], [down(), "ok"]);
    await followEvents(f.deps);
    expect(f.printed).toEqual([1n, 2n, 3n, 4n]);
    expect(f.opened).toEqual([0n, 2n, 2n, 3n, 3n, 4n]);
    // The first reconnect needed two pings (the daemon was still down at the first).
    expect(f.sleeps).toEqual([100, 200, 100, 100, 100, 100]);
    expect(f.notices.filter((n) => n.startsWith("reconnected")).map((n) => n.slice(-2))).toEqual(["#2", "#2", "#3", "#3", "#4"]);
  });

  test("gives up after maxAttempts failed pings in a row with the last error", async () => {
    const f = fake(["end"], [down(), down(), down()]);
    await expect(followEvents(f.deps)).rejects.toThrow("ECONNREFUSED");
    expect(f.sleeps).toEqual([100, 200, 400]);
    expect(backoffMs(10, f.deps.backoff)).toBe(400);
  });

  test("events no longer buffered (OUT_OF_RANGE): a notice, then new events only", async () => {
    const f = fake([new ConnectError("gone", Code.OutOfRange), [event(9)]], []);
    f.deps.since = 5n;
    await followEvents(f.deps);
    expect(f.opened).toEqual([5n, 0n, 9n]);
    expect(f.notices[0]).toContain("no longer buffered");
  });

  test("a refusal that retrying cannot fix (INVALID_ARGUMENT) ends it at once", async () => {
    const f = fake([new ConnectError("bad", Code.InvalidArgument)], []);
    await expect(followEvents(f.deps)).rejects.toThrow("bad");
    expect(f.sleeps).toEqual([]);
  });
});
