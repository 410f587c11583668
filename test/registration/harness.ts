// One registrar test's world: a fresh state folder, and fake control planes and registrars that
// are all stopped after the test. Intervals run in 50 ms "seconds" (secondMs) and backoff in
// tens of milliseconds, so each test takes well under 1 s. Call at the top of a test file.
import { afterEach, beforeEach } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistrar, type Registrar, type RegistrarDeps } from "../../src/registration/registrar.ts";
import { startFakeControlPlane, type FakeControlPlane } from "./fake-control-plane.ts";
import { fakeVms, figuresFixture, identityFixture, recordingLogger } from "./helpers.ts";

export const secondMs = 50;

export function useRegistrarHarness() {
  let stateDir = "";
  const running: Registrar[] = [];
  const planes: FakeControlPlane[] = [];

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "lqx-reg-"));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
    await Promise.all(planes.splice(0).map((p) => p.close()));
    await rm(stateDir, { recursive: true, force: true });
  });

  return {
    stateDir: () => stateDir,
    async plane(options: Parameters<typeof startFakeControlPlane>[0] = {}) {
      const p = await startFakeControlPlane(options);
      planes.push(p);
      return p;
    },
    registrar(cp: FakeControlPlane, overrides: Partial<RegistrarDeps> = {}) {
      const logger = recordingLogger();
      const r = createRegistrar({
        address: cp.url,
        heartbeatIntervalSecs: 2,
        grpcPort: 9090,
        labels: { zone: "a" },
        stateDir,
        collectIdentity: async () => identityFixture,
        collectFigures: async () => figuresFixture,
        vms: fakeVms().source,
        logger,
        interfaces: () => ({
          eth0: [{ address: "192.168.1.10", netmask: "255.255.255.0", family: "IPv4", mac: "00:00:00:00:00:01", internal: false, cidr: "192.168.1.10/24" }],
        }),
        secondMs,
        backoff: { initialMs: 20, maxMs: 80 },
        callTimeoutMs: 250,
        ...overrides,
      });
      running.push(r);
      return { r, logger };
    },
  };
}
