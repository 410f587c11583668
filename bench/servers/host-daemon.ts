// The daemon in a host's shape for bench/sections/host-shape.ts: what `limiquantix-node serve`
// runs (configuration from the environment and flags as the CLI reads them, the libvirt backend
// built by the daemon's own factory, startDaemon, one full collection after start), with the
// Prometheus endpoint, the guest agent manager and registration on. Only the libvirt pool's
// name comes from the caller (--pool), so the bench never touches a pool of another run.
// Prints `READY {"port","pid","metricsPort"}` and answers no commands (bench/lib/child.ts):
// at idle it must do nothing a stdin reader could be blamed for.
// Usage: bun bench/servers/host-daemon.ts --pool NAME --state-dir DIR [--default-network NET]
//        [--cpu-disabled-features a,b] [--domain-type kvm|qemu] [daemon flags...]

import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { createLogger } from "../../src/common/logger.ts";
import { loadConfig } from "../../src/config/index.ts";
import type { ConfigFlags } from "../../src/config/types.ts";
import { startDaemon } from "../../src/daemon.ts";
import { createBackend } from "../../src/hypervisor/create-backend.ts";
import { serveCommands } from "./commands.ts";

const { values } = parseArgs({
  options: {
    pool: { type: "string" },
    "domain-type": { type: "string" },
    "libvirt-uri": { type: "string", default: "qemu:///system" },
    "control-plane": { type: "string" },
    "storage-path": { type: "string" },
    listen: { type: "string" },
    "metrics-port": { type: "string" },
    "log-level": { type: "string", default: "error" },
    "state-dir": { type: "string" },
    "default-network": { type: "string" },
    "cpu-disabled-features": { type: "string", default: "" },
  },
});
if (!values.pool) throw new Error("--pool NAME is required");

const flags: ConfigFlags = {
  backend: "libvirt",
  libvirtUri: values["libvirt-uri"],
  logLevel: values["log-level"],
  ...(values["control-plane"] ? { controlPlane: values["control-plane"], register: true } : {}),
  ...(values["storage-path"] ? { storagePath: values["storage-path"] } : {}),
  ...(values.listen ? { listen: values.listen } : {}),
  ...(values["metrics-port"] ? { metricsPort: values["metrics-port"] } : {}),
};
const { config } = loadConfig({
  flags,
  env: process.env,
  readFile: (path) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
});
// What the node.yaml of a test host would say (keys without flags).
if (values["state-dir"]) {
  config.node.stateDir = values["state-dir"];
  config.agent.socketDir = `${values["state-dir"]}/agent`;
}
if (values["default-network"]) config.hypervisor.defaultNetwork = values["default-network"];
config.hypervisor.cpuDisabledFeatures = values["cpu-disabled-features"].split(",").filter((f) => f !== "");
config.hypervisor.consoleListen = "127.0.0.1";
config.server.metricsListen = "127.0.0.1";
delete config.agent.restListenAddress;
const log = createLogger({ level: config.log.level, format: config.log.format });
const domainType = values["domain-type"] === "kvm" || values["domain-type"] === "qemu" ? values["domain-type"] : undefined;
const hypervisor = await createBackend(config, log, { poolName: values.pool, ...(domainType ? { domainType } : {}) });
const daemon = await startDaemon(config, log, { hypervisor });
Bun.gc(true);

serveCommands({ port: daemon.api.port, pid: process.pid, metricsPort: daemon.metrics?.port ?? 0 }, {}, () => daemon.stop());
