// The shared Hypervisor contract on the libvirt backend over libvirt's test:///default driver.
// That driver has no device hot-plug, no console port and no migration: those parts run in the
// real tier (test/hypervisor/libvirt/real/).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "bun:test";
import { createLibvirtHypervisor } from "../../../src/hypervisor/libvirt/index.ts";
import { runHypervisorContract } from "../contract.ts";

const storage = mkdtempSync(join(tmpdir(), "lq-contract-"));
afterAll(() => rmSync(storage, { recursive: true, force: true }));

runHypervisorContract(
  "libvirt test:///default",
  async () => {
    const hv = await createLibvirtHypervisor({
      uri: "test:///default",
      storagePath: storage,
      consoleListen: "127.0.0.1",
      poolName: "lq-contract",
      poolSize: 2,
      stopPollMs: 20,
      eventTickMs: 50,
    });
    return { hv, cleanup: () => hv.close() };
  },
  { supportsHotPlug: false, supportsConsole: false, supportsMigration: false },
);
