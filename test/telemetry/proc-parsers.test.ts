// Table tests of the /proc parsers: empty, short line, garbage, real content.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseProcStat, parseProcStatLines } from "../../src/telemetry/proc-stat.ts";
import { parseMeminfo, parseMeminfoLines, toMemorySample } from "../../src/telemetry/meminfo.ts";
import { parseLoadAvg } from "../../src/telemetry/loadavg.ts";
import { parseUptime } from "../../src/telemetry/uptime.ts";
import { diskSamplesReader, isReportedDisk, parseDiskStats, parseDiskStatsLines, toDiskSamples } from "../../src/telemetry/diskstats.ts";
import { createMemoryIo } from "./memory-io.ts";
import { parseNetDev, parseNetDevLines } from "../../src/telemetry/net-dev.ts";
import { readWellFormedLines, TelemetryParseError } from "../../src/telemetry/parse-error.ts";

/** A parse's result, or its error message: what the one-pass and line-by-line readers must agree on. */
function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Every captured host's copy of a /proc file, and this machine's. */
function realCopies(file: string): string[] {
  const hosts = join(import.meta.dir, "../fixtures/host");
  const captured = readdirSync(hosts)
    .filter((h) => h !== "README.md")
    .map((h) => readFileSync(join(hosts, h, "proc", file), "utf8"));
  return [...captured, readFileSync(join("/proc", file), "utf8")];
}

function parseErrorOf(fn: () => unknown): TelemetryParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TelemetryParseError) return err;
    throw err;
  }
  throw new Error("expected a TelemetryParseError");
}

describe("parseProcStat", () => {
  const real = `cpu  2277 0 1656 58657 109 0 30 6 0 0
cpu0 958 0 722 29677 6 0 7 2 0 0
cpu1 1319 0 934 28979 102 0 23 4 0 0
intr 152974 0 0 0
ctxt 405993
btime 1795311397
processes 5790
procs_running 1
procs_blocked 0
softirq 62451 0 8426 5 5164 10326 0 3 20006 0 18521
`;
  test("real content: seconds per mode, per CPU, kernel counters", () => {
    const s = parseProcStat(real);
    expect(s.total).toEqual({ user: 22.77, nice: 0, system: 16.56, idle: 586.57, iowait: 1.09, irq: 0, softirq: 0.3, steal: 0.06, guest: 0, guestNice: 0 });
    expect([...s.perCpu.keys()]).toEqual(["0", "1"]);
    expect(s.perCpu.get("1")?.iowait).toBe(1.02);
    expect(s).toMatchObject({ bootTimeSeconds: 1795311397, contextSwitches: 405993, interrupts: 152974, forks: 5790, procsRunning: 1, procsBlocked: 0 });
  });
  test("the one-pass reading and the line-by-line reader agree on any text: same figures, or the same error", () => {
    const count = fc.oneof(fc.nat().map(String), fc.constantFrom("x", "-1", ""));
    const counts = (min: number, max: number) => fc.array(count, { minLength: min, maxLength: max }).map((c) => c.join(" "));
    const line = fc.oneof(
      fc.tuple(fc.constantFrom("cpu ", "cpu", "cpu0", "cpu17", "cpux", " cpu1"), counts(2, 12)).map(([k, c]) => `${k} ${c}`),
      fc
        .tuple(fc.constantFrom("intr", "ctxt", "btime", "processes", "procs_running", "procs_blocked", "softirq", "page", " ctxt", "procs_x"), counts(0, 5))
        .map(([k, c]) => `${k} ${c}`),
      fc.constantFrom("", "  ", "weird"),
    );
    const text = fc.tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom("\n", "", "\n\n")).map(([ls, end]) => `${ls.join("\n")}${end}`);
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          text.map((t) => `cpu  1 2 3 4\n${t}`),
        ),
        (t) => {
          expect(outcome(() => parseProcStat(t))).toEqual(outcome(() => parseProcStatLines(t)));
        },
      ),
      { numRuns: 2000 },
    );
    for (const text of realCopies("stat")) expect(parseProcStat(text)).toEqual(parseProcStatLines(text));
  });
  test("old kernels without guest columns: absent modes had no time", () => {
    const s = parseProcStat("cpu  10 20 30 40 50 60 70\ncpu3 1 2 3 4 5 6 7\n");
    expect(s.total.steal).toBe(0);
    expect(s.total.guestNice).toBe(0);
    expect(s.perCpu.has("3")).toBe(true);
    expect(s.bootTimeSeconds).toBeUndefined();
  });
  test.each([
    ["empty", "", undefined, 'no aggregate "cpu" line'],
    ["short cpu line", "cpu  1 2 3\n", 1, "expected at least 4"],
    ["garbage counter", "cpu  1 2 x 4\n", 1, "system"],
    ["negative counter", "cpu  1 2 3 4\ncpu0 1 -2 3 4\n", 2, "nice"],
    ["garbage btime", "cpu  1 2 3 4\nbtime soon\n", 2, "btime"],
  ])("%s", (_name, text, line, reason) => {
    const err = parseErrorOf(() => parseProcStat(text, "/x/proc/stat"));
    expect(err.file).toBe("/x/proc/stat");
    expect(err.line).toBe(line);
    expect(err.message).toContain(reason);
  });
});

describe("parseMeminfo", () => {
  test("kB to bytes, counts kept as counts, every key kept", () => {
    const m = parseMeminfo(
      "MemTotal:       24684092 kB\nMemAvailable:   24310244 kB\nActive(anon):       1552 kB\nHugePages_Total:      16\nHugepagesize:       2048 kB\n",
    );
    expect(m.values.get("MemTotal")).toBe(24684092 * 1024);
    expect(m.values.get("Active(anon)")).toBe(1552 * 1024);
    expect(m.values.get("HugePages_Total")).toBe(16);
    expect([...m.countKeys]).toEqual(["HugePages_Total"]);
    const sample = toMemorySample(m, undefined);
    expect(sample.hugepages2mTotal).toBe(16);
    expect(sample.hugepages1gTotal).toBeUndefined();
    // absent is not zero
    expect(sample.swapTotalBytes).toBeUndefined();
    expect(sample.freeBytes).toBeUndefined();
  });
  test("the one-pass reading and the line-by-line reader agree on any text: same values, or the same error", () => {
    const key = fc.constantFrom("MemTotal", "MemFree", "Active(anon)", "HugePages_Total", "Hugepagesize", "DirectMap4k", "", " Odd key");
    const value = fc.oneof(fc.nat().map(String), fc.constantFrom("", "x", "-1", "1.5"));
    const spaces = fc.constantFrom("", " ", "   ", "\t");
    const unit = fc.constantFrom("", " kB", "  kB", " MB", " kB extra");
    const line = fc.tuple(key, spaces, value, unit, fc.constantFrom("", " ")).map(([k, sp, v, u, tail]) => `${k}:${sp}${v}${u}${tail}`);
    const text = fc.tuple(fc.array(line, { maxLength: 6 }), fc.constantFrom("\n", "", "\n\n")).map(([ls, end]) => `MemTotal: 1 kB\n${ls.join("\n")}${end}`);
    fc.assert(
      fc.property(text, (t) => {
        expect(outcome(() => parseMeminfo(t))).toEqual(outcome(() => parseMeminfoLines(t)));
      }),
      { numRuns: 1000 },
    );
    // Every captured host's meminfo too, and this machine's.
    for (const text of realCopies("meminfo")) expect(parseMeminfo(text)).toEqual(parseMeminfoLines(text));
  });
  test("sysfs huge page counts win over meminfo's default size", () => {
    const m = parseMeminfo("MemTotal: 1 kB\nHugePages_Total: 4\nHugePages_Free: 4\nHugepagesize: 2048 kB\n");
    const s = toMemorySample(m, {
      bySizeKb: new Map([
        [2048, { total: 8, free: 3 }],
        [1048576, { total: 2, free: 1 }],
      ]),
    });
    expect([s.hugepages2mTotal, s.hugepages2mFree, s.hugepages1gTotal, s.hugepages1gFree]).toEqual([8, 3, 2, 1]);
  });
  test.each([
    ["empty", "", undefined, "no MemTotal"],
    ["no colon", "MemTotal 12 kB\n", 1, 'no "key:"'],
    ["garbage value", "MemTotal: lots kB\n", 1, "MemTotal"],
    ["unknown unit", "MemTotal: 12 MB\n", 1, "unknown unit"],
    ["short line", "MemTotal:\n", 1, "MemTotal"],
  ])("%s", (_name, text, line, reason) => {
    const err = parseErrorOf(() => parseMeminfo(text));
    expect(err.line).toBe(line);
    expect(err.message).toStartWith("/proc/meminfo");
    expect(err.message).toContain(reason);
  });
});

describe("parseLoadAvg and parseUptime", () => {
  test("real content", () => {
    expect(parseLoadAvg("0.01 0.08 0.04 1/91 5791\n")).toEqual({ load1: 0.01, load5: 0.08, load15: 0.04, runnable: 1, threads: 91 });
    expect(parseUptime("315.34 586.57\n")).toEqual({ uptimeSeconds: 315.34, idleSeconds: 586.57 });
  });
  test.each([
    ["empty", () => parseLoadAvg(""), "empty file"],
    ["short", () => parseLoadAvg("0.1 0.2\n"), "at least 3"],
    ["garbage", () => parseLoadAvg("a b c 1/2 3\n"), "load1"],
    ["bad tasks", () => parseLoadAvg("1 2 3 1/2/3 4\n"), "runnable/threads"],
    ["uptime empty", () => parseUptime(""), "empty file"],
    ["uptime garbage", () => parseUptime("up 12\n"), "uptime"],
  ])("%s", (_name, fn, reason) => {
    expect(parseErrorOf(fn).message).toContain(reason);
  });
});

describe("parseDiskStats", () => {
  const real = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 9269 5320 722914 5533 1529 10766 1136168 3365 1 1432 9161 4353 53 71808 261 12 0
 254       1 vda1 9000 5000 700000 5000 1500 10000 1100000 3000 0 1400 8000 0 0 0 0 0 0
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 253       1 dm-0 10 0 80 1 0 0 0 0 0 1 1
`;
  test("sectors to bytes, every field", () => {
    const vda = parseDiskStats(real).find((d) => d.device === "vda");
    expect(vda).toEqual({
      major: 254,
      minor: 0,
      device: "vda",
      readsCompleted: 9269,
      readsMerged: 5320,
      readBytes: 722914 * 512,
      readTimeMs: 5533,
      writesCompleted: 1529,
      writesMerged: 10766,
      writeBytes: 1136168 * 512,
      writeTimeMs: 3365,
      ioInProgress: 1,
      ioTimeMs: 1432,
      weightedIoTimeMs: 9161,
    });
  });
  test("the one-pass reading and the line-by-line reader agree on any text: same counters, or the same error", () => {
    const count = fc.oneof(fc.nat().map(String), fc.constantFrom("x", "-1"));
    const disk = fc
      .tuple(
        fc.constantFrom("", "   "),
        fc.constantFrom("vda", "nvme0n1p2", "dm-0", "sr0"),
        fc.array(count, { minLength: 4, maxLength: 19 }),
        fc.constantFrom("", " "),
      )
      .map(([lead, name, counts, tail]) => `${lead}252 0 ${name} ${counts.join(" ")}${tail}`);
    const line = fc.oneof(disk, fc.constantFrom("", "  ", "8 0 sda"));
    const text = fc.tuple(fc.array(line, { maxLength: 6 }), fc.constantFrom("\n", "", "\n\n")).map(([ls, end]) => `${ls.join("\n")}${end}`);
    fc.assert(
      fc.property(text, (t) => {
        expect(outcome(() => parseDiskStats(t))).toEqual(outcome(() => parseDiskStatsLines(t)));
      }),
      { numRuns: 1000 },
    );
    for (const text of realCopies("diskstats")) expect(parseDiskStats(text)).toEqual(parseDiskStatsLines(text));
  });
  test("the reader lists /sys/block once, and again only when diskstats names other devices", async () => {
    const line = (dev: string) => ` 252       0 ${dev} 1 0 8 0 1 0 8 0 0 0 0\n`;
    const io = createMemoryIo({ "/p/diskstats": line("vda"), "/s/block/vda/size": "1\n" });
    const read = diskSamplesReader(io, { proc: "/p", sys: "/s", etc: "/e" });
    expect((await read()).map((d) => d.device)).toEqual(["vda"]);
    expect((await read()).map((d) => d.device)).toEqual(["vda"]);
    expect(io.readsOf("/s/block")).toBe(1);
    // A disk hot-plugged: diskstats and /sys/block show it together.
    io.files.set("/p/diskstats", line("vda") + line("vdb"));
    io.files.set("/s/block/vdb/size", "1\n");
    expect((await read()).map((d) => d.device)).toEqual(["vda", "vdb"]);
    expect((await read()).map((d) => d.device)).toEqual(["vda", "vdb"]);
    expect([io.readsOf("/s/block"), io.readsOf("/p/diskstats")]).toEqual([2, 4]);
  });
  test("whole devices only: /sys/block decides, loop/ram/zram never", () => {
    const stats = parseDiskStats(real);
    expect(toDiskSamples(stats, new Set(["loop0", "vda", "zram0", "dm-0"])).map((d) => d.device)).toEqual(["vda", "dm-0"]);
    // Without /sys/block, partition names are recognised by rule.
    expect(toDiskSamples(stats, undefined).map((d) => d.device)).toEqual(["vda", "dm-0"]);
  });
  test.each([
    ["sda", undefined, true],
    ["sda1", undefined, false],
    ["nvme0n1", undefined, true],
    ["nvme0n1p2", undefined, false],
    ["mmcblk0p1", undefined, false],
    ["md0", undefined, true],
    ["ram0", undefined, false],
    ["fd0", undefined, false],
    ["cciss/c0d0", new Set(["cciss!c0d0"]), true],
    ["cciss/c0d0p1", new Set(["cciss!c0d0"]), false],
    ["sdz9", new Set(["sdz9"]), true],
  ])("isReportedDisk(%s)", (name, block, expected) => {
    expect(isReportedDisk(name, block)).toBe(expected);
  });
  test("old 4-counter partition lines are skipped; empty file is no disks", () => {
    expect(parseDiskStats("   8    1 sda1 1 2 3 4\n")).toEqual([]);
    expect(parseDiskStats("")).toEqual([]);
  });
  test.each([
    ["short line", "   8 0 sda 1 2 3\n", "at least 14"],
    ["garbage", "   8 0 sda 1 2 3 4 5 6 7 8 9 x 11\n", "I/O time"],
  ])("%s", (_name, text, reason) => {
    const err = parseErrorOf(() => parseDiskStats(text));
    expect(err.line).toBe(1);
    expect(err.message).toContain(reason);
  });
});

describe("parseNetDev", () => {
  const header =
    "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  test("the one-pass reading and the line-by-line reader agree on any text: same counters, or the same error", () => {
    const count = fc.oneof(fc.nat().map(String), fc.constantFrom("x", "-1"));
    const nic = fc
      .tuple(
        fc.constantFrom("lo", "  eth0", "vnet12", "br-lan.100", "", "a|b", "bad name"),
        fc.constantFrom(": ", ":", ":   "),
        fc.array(count, { minLength: 14, maxLength: 18 }),
        fc.constantFrom("", " "),
      )
      .map(([name, colon, counts, tail]) => `${name}${colon}${counts.join("    ")}${tail}`);
    const line = fc.oneof(nic, fc.constantFrom("", "  ", "junk"));
    const text = fc.tuple(fc.array(line, { maxLength: 6 }), fc.constantFrom("\n", "", "\n\n")).map(([ls, end]) => `${header}${ls.join("\n")}${end}`);
    fc.assert(
      fc.property(text, (t) => {
        expect(outcome(() => parseNetDev(t))).toEqual(outcome(() => parseNetDevLines(t)));
      }),
      { numRuns: 1000 },
    );
    for (const text of realCopies("net/dev")) expect(parseNetDev(text)).toEqual(parseNetDevLines(text));
  });
  test("real content, long names, counters above 2^32, old glued format", () => {
    const text = `${header}    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
veth9f8e7d6c5b4: 987654321098765 876543210987    3   17    0     2          0   1234567 123456789012345 98765432109    0    1    0     4       5          6
  eth0:4294967295123 4567890123    0    0    0     0          0     12345 987654321 23456789    0    0    0     0       0          0
`;
    const nics = parseNetDev(text);
    expect(nics.map((n) => n.name)).toEqual(["lo", "veth9f8e7d6c5b4", "eth0"]);
    expect(nics[1]).toMatchObject({
      rxBytes: 987654321098765,
      rxPackets: 876543210987,
      rxErrors: 3,
      rxDropped: 17,
      rxFrame: 2,
      rxMulticast: 1234567,
      txBytes: 123456789012345,
      txDropped: 1,
      txCollisions: 4,
      txCarrier: 5,
      txCompressed: 6,
    });
    expect(nics[2]?.rxBytes).toBe(4294967295123);
  });
  test("headers only: no interfaces", () => {
    expect(parseNetDev(header)).toEqual([]);
    expect(parseNetDev("")).toEqual([]);
  });
  test.each([
    ["short line", `${header}  eth0: 1 2 3\n`, 3, "expected 16 counters"],
    ["garbage", `${header}  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n`, 3, "txCompressed"],
    ["no colon", `${header}  eth0 1 2\n`, 3, 'no "name:"'],
    ["empty name", `${header}  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`, 3, "empty interface name"],
  ])("%s", (_name, text, line, reason) => {
    const err = parseErrorOf(() => parseNetDev(text));
    expect(err.line).toBe(line);
    expect(err.message).toContain(reason);
  });
});

describe("readWellFormedLines", () => {
  test("each line to the first pattern that matches it; the last line may lack its newline; a line no pattern matches stops it", () => {
    const seen: string[] = [];
    const patterns = [/a(\d)\n/y, /[a-z]+\n/y];
    expect(readWellFormedLines("a1\nbee\na2", patterns, (m, which) => seen.push(`${which}:${m[0].trim()}`))).toBe(true);
    expect(seen).toEqual(["0:a1", "1:bee", "0:a2"]);
    expect(readWellFormedLines("a1\n42\na2\n", patterns, () => {})).toBe(false);
    expect(readWellFormedLines("", patterns, () => {})).toBe(false);
  });
});
