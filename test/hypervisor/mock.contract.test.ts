import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import { runHypervisorContract } from "./contract.ts";

runHypervisorContract(
  "mock",
  async () => {
    // serveConsoles: an RFB server on each running VM's console port, as in --dev (the contract reads its greeting).
    const hv = createMockHypervisor({ acpiShutdownMs: 5, bootMs: 1, migrationStepMs: 2, serveConsoles: true });
    return { hv, cleanup: () => hv.close() };
  },
  { supportsHotPlug: true, supportsConsole: true, supportsMigration: true },
);
