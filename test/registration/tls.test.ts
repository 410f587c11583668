// HTTPS to the control plane with a private CA: a CA and a server certificate for 127.0.0.1 are
// made with openssl for this test. Go's TLS server offers HTTP/2 through ALPN, so does the fake.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistrar, type Registrar } from "../../src/registration/registrar.ts";
import { startFakeControlPlane, type FakeControlPlane } from "./fake-control-plane.ts";
import { fakeVms, figuresFixture, identityFixture, recordingLogger, waitFor } from "./helpers.ts";

const openssl = Bun.which("openssl");
if (openssl === null) console.warn("openssl not found: skipping the HTTPS registration tests");

let dir: string;
let cp: FakeControlPlane;

function run(args: string[]) {
  const result = Bun.spawnSync([openssl!, ...args], { cwd: dir, stderr: "pipe", stdout: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
}

beforeAll(async () => {
  if (openssl === null) return;
  dir = await mkdtemp(join(tmpdir(), "lqx-tls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=limiquantix test CA"]);
  run(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
  await Bun.write(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  run(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "ext.cnf"]);
  cp = await startFakeControlPlane({
    tls: { key: await readFile(join(dir, "server.key"), "utf8"), cert: await readFile(join(dir, "server.crt"), "utf8") },
  });
});

afterAll(async () => {
  await cp?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function registrar(overrides: { caFile?: string; httpVersion?: "1.1" | "2" }): { r: Registrar; logger: ReturnType<typeof recordingLogger> } {
  const logger = recordingLogger();
  const r = createRegistrar({
    address: cp.url,
    heartbeatIntervalSecs: 1,
    grpcPort: 9090,
    labels: {},
    stateDir: join(dir, "state"),
    collectIdentity: async () => identityFixture,
    collectFigures: async () => figuresFixture,
    vms: fakeVms().source,
    logger,
    secondMs: 50,
    backoff: { initialMs: 20, maxMs: 40 },
    callTimeoutMs: 1000,
    ...overrides,
  });
  return { r, logger };
}

describe.skipIf(openssl === null)("registration over HTTPS", () => {
  test("with the CA file: registers and heartbeats over HTTP/2", async () => {
    const { r } = registrar({ caFile: join(dir, "ca.crt") });
    const from = cp.attempts.length;
    r.start();
    try {
      await waitFor("registered with a heartbeat", () => r.status().lastHeartbeatAt !== undefined, 5000);
      expect(r.status().registered).toBe(true);
      expect(cp.attempts.slice(from).map((a) => a.httpVersion)).toContain("2.0");
      expect(cp.attempts.slice(from).every((a) => a.httpVersion === "2.0")).toBe(true);
    } finally {
      await r.stop();
    }
  });

  test("HTTP/1.1 over TLS with the CA file works too", async () => {
    const { r } = registrar({ caFile: join(dir, "ca.crt"), httpVersion: "1.1" });
    const from = cp.attempts.length;
    r.start();
    try {
      await waitFor("registered with a heartbeat", () => r.status().lastHeartbeatAt !== undefined, 5000);
      expect(cp.attempts.slice(from).every((a) => a.httpVersion === "1.1")).toBe(true);
    } finally {
      await r.stop();
    }
  });

  test("without the CA file the server certificate is refused and the node keeps retrying", async () => {
    const { r, logger } = registrar({});
    r.start();
    try {
      await waitFor("retrying", () => r.status().phase === "retrying", 5000);
      expect(r.status().registered).toBe(false);
      expect(r.status().lastError).toMatch(/certificate/i);
      expect(logger.count(/control plane unreachable/)).toBe(1);
    } finally {
      await r.stop();
    }
  });
});
