// /proc/<pid>/stat's start time, as the libvirt backend reads it for QEMU processes that were
// running before the daemon (src/hypervisor/libvirt/qemu-process.ts).

import { describe, expect, test } from "bun:test";
import { TelemetryParseError } from "../../src/telemetry/parse-error.ts";
import { parseProcessStartTicks, processStartedAt } from "../../src/telemetry/proc-pid-stat.ts";

// Captured on this machine from a QEMU started by libvirtd (btime 1795311397, ps lstart 05:01:21 UTC).
const QEMU =
  "25553 (qemu-system-x86) S 1 25552 25552 0 -1 138412416 4659 0 25 0 11 365 0 0 20 0 5 0 1228410 361672704 9547 " +
  "18446744073709551615 93854700154880 93854706015317 140732165629552 0 0 0 268444224 4096 16963 0 0 0 17 1 0 0 0 0 0\n";

describe("parseProcessStartTicks", () => {
  test("field 22 of a real QEMU process", () => {
    expect(parseProcessStartTicks(QEMU, "/proc/25553/stat")).toBe(1228410);
    expect(processStartedAt(QEMU, "/proc/25553/stat", 1795311397).toISOString()).toBe("2026-11-22T05:01:21.100Z");
  });

  test("a command name with spaces and parentheses does not shift the fields", () => {
    const odd = QEMU.replace("(qemu-system-x86)", "(qemu (a) b) c)");
    expect(parseProcessStartTicks(odd, "/proc/1/stat")).toBe(1228410);
  });

  test("a truncated or nameless line is an error naming the file", () => {
    expect(() => parseProcessStartTicks("25553 (qemu) S 1 2 3", "/proc/25553/stat")).toThrow(TelemetryParseError);
    expect(() => parseProcessStartTicks("25553 qemu S", "/proc/25553/stat")).toThrow(/\/proc\/25553\/stat/);
  });
});
