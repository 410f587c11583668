// Picks the backend the config asks for. The mock runs only when asked for (--dev or
// backend: mock); a libvirt that cannot be opened is a start-up error, never a silent fallback.

import type { TaggedLogger } from "../common/logger.ts";
import type { NodeConfig } from "../config/types.ts";
import { createMockHypervisor } from "./mock/index.ts";
import type { Hypervisor } from "./types.ts";

/** libvirt options that are not node settings: tests pin the domain type and pool name. */
export interface LibvirtExtras {
  domainType?: "kvm" | "qemu";
  poolName?: string;
}

export async function createBackend(config: NodeConfig, log: TaggedLogger, extras: LibvirtExtras = {}): Promise<Hypervisor> {
  if (config.hypervisor.backend === "mock") {
    log.info("using the in-memory mock hypervisor: VMs are simulated and vanish when the daemon stops");
    return createMockHypervisor({
      storagePath: config.hypervisor.storagePath,
      cloudImagesDir: config.storage.cloudImages,
      isoImagesDir: config.storage.isoImages,
      consoleListen: config.hypervisor.consoleListen,
      // A console the browser (and any VNC client) can open, so the host UI's console works in --dev.
      serveConsoles: true,
    });
  }
  // Loaded only here, so a host without libvirt can still run the mock.
  const { createLibvirtHypervisor } = await import("./libvirt/index.ts");
  return createLibvirtHypervisor({
    uri: config.hypervisor.libvirtUri,
    storagePath: config.hypervisor.storagePath,
    cloudImagesDir: config.storage.cloudImages,
    isoImagesDir: config.storage.isoImages,
    consoleListen: config.hypervisor.consoleListen,
    cpuDisabledFeatures: config.hypervisor.cpuDisabledFeatures,
    agentSocketDir: config.agent.socketDir,
    procRoot: config.telemetry.procRoot,
    poolSize: config.hypervisor.libvirtWorkers,
    longPoolSize: config.hypervisor.libvirtLongWorkers,
    queueLimit: config.hypervisor.libvirtQueueLimit,
    callDeadlineMs: config.hypervisor.libvirtCallDeadlineMs,
    log: log.withTag("libvirt"),
    ...extras,
  });
}
