// deploy/limiquantix-node.service: the seed's unit, adapted. Checked as data always, and by
// systemd's own parser when systemd-analyze is on the machine.

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TEXT = readFileSync(join(import.meta.dir, "..", "..", "deploy", "limiquantix-node.service"), "utf8");

/** section -> key -> values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] ?? "", current);
      continue;
    }
    const eq = line.indexOf("=");
    if (!current || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

test("starts the binary with the config file, restarts it and stops it within 15 s", () => {
  const unit = parseUnit(TEXT);
  const service = unit.get("Service");
  const one = (key: string) => service?.get(key)?.join(" ");
  expect(one("ExecStart")).toBe("/usr/local/bin/limiquantix-node --config /etc/limiquantix/node.yaml");
  expect(one("Restart")).toBe("always");
  expect(one("RestartSec")).toBe("5");
  expect(one("KillSignal")).toBe("SIGTERM");
  expect(one("TimeoutStopSec")).toBe("15");
  expect(one("LimitNOFILE")).toBe("65536");
  expect(one("StandardOutput")).toBe("journal");
  expect(one("StandardError")).toBe("journal");
  expect(one("SyslogIdentifier")).toBe("limiquantix-node");
  expect(unit.get("Unit")?.get("After")?.join(" ")).toContain("libvirtd.service");
  expect(unit.get("Unit")?.get("Wants")?.join(" ")).toContain("libvirtd.service");
  expect(unit.get("Install")?.get("WantedBy")).toEqual(["multi-user.target"]);
});

test("Bun's idle GC timer wakes the JS threads every 30 s, not every second (read at start-up)", () => {
  const env = parseUnit(TEXT).get("Service")?.get("Environment") ?? [];
  expect(env).toContain("BUN_GC_TIMER_INTERVAL=30000");
});

test("the allocator hands idle threads' free blocks back at most every 10 s, not after every wake (read at start-up)", () => {
  const env = parseUnit(TEXT).get("Service")?.get("Environment") ?? [];
  expect(env).toContain("MIMALLOC_PURGE_HOLES_MIN_INTERVAL=10000");
});

test("hardening never takes away what libvirt and Bun need", () => {
  const service = parseUnit(TEXT).get("Service");
  // Bun's JIT maps W+X memory; a private /dev or read-only / would break passthrough and storage.
  for (const key of ["MemoryDenyWriteExecute", "NoNewPrivileges", "PrivateDevices", "DynamicUser"]) {
    expect(service?.has(key)).toBe(false);
  }
  expect(service?.get("ProtectSystem")).toEqual(["full"]);
  expect(service?.get("RestrictAddressFamilies")?.[0]?.split(" ")).toEqual(expect.arrayContaining(["AF_UNIX", "AF_INET", "AF_INET6"]));
});

test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze verify accepts it with no unknown keys", () => {
  const dir = mkdtempSync(join(tmpdir(), "lq-unit-"));
  try {
    // verify insists the ExecStart binary exists; point it at one that does.
    const file = join(dir, "limiquantix-node.service");
    writeFileSync(file, TEXT.replace("ExecStart=/usr/local/bin/limiquantix-node", "ExecStart=/bin/true"));
    const run = Bun.spawnSync(["systemd-analyze", "verify", file], { stderr: "pipe", stdout: "pipe" });
    const stderr = run.stderr.toString();
    expect(stderr).not.toContain("Unknown");
    expect(stderr).not.toContain("ignoring");
    expect(run.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
