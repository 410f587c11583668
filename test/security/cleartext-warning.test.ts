// Without TLS on a non-loopback address the daemon warns loudly, naming the risk. The address
// used is TEST-NET-1 (RFC 5737), which no host has: the warning comes before the bind, and the
// bind then fails, so nothing is ever exposed by this test.

import { expect, test } from "bun:test";
import { startHarness } from "../reliability/harness.ts";

test("cleartext on a non-loopback address: a warning naming the risk, before anything listens", async () => {
  const logs: string[] = [];
  const started = startHarness({
    tweak: (c) => {
      c.server.listenAddress = "192.0.2.1:0";
    },
    onLog: (line) => logs.push(line),
  });
  await expect(started).rejects.toThrow(/EADDRNOTAVAIL|address/i);
  const warning = logs.find((l) => l.startsWith("warn") && l.includes("192.0.2.1"));
  expect(warning).toBeDefined();
  expect(warning).toMatch(/not encrypted/);
  expect(warning).toMatch(/create, stop and delete VMs/);
  expect(warning).toMatch(/client_ca_path/);
});

test("no warning on loopback", async () => {
  const h = await startHarness();
  expect(h.logs.some((l) => l.includes("not encrypted"))).toBe(false);
  await h.stop();
});
