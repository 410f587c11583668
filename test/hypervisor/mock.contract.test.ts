import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import { runHypervisorContract } from "./contract.ts";

runHypervisorContract(
  "mock",
  async () => {
    const hv = createMockHypervisor({ acpiShutdownMs: 5, bootMs: 1, migrationStepMs: 2 });
    return { hv, cleanup: () => hv.close() };
  },
  { supportsHotPlug: true, supportsConsole: true, supportsMigration: true },
);
