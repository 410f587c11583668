// The config every in-process test and benchmark daemon starts from: the flags given (dev mode
// unless they say otherwise), no file, no environment, any free port on loopback, no metrics
// port, and its state under a fresh temp folder. Callers change what their case needs.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import type { ConfigFlags, NodeConfig } from "../../src/config/types.ts";

export function tempDaemonConfig(prefix: string, flags: ConfigFlags = { dev: true }): { config: NodeConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const { config } = loadConfig({
    flags: { logLevel: "silent", storagePath: join(dir, "vms"), ...flags },
    env: {},
    readFile: () => undefined,
  });
  // Port 0 (any free port) is for tests and benchmarks only; the config refuses it from operators.
  config.server.listenAddress = "127.0.0.1:0";
  config.node.stateDir = dir;
  config.server.metricsEnabled = false;
  // No agent REST listener on a fixed port (8443): tests that want it set an ephemeral one.
  delete config.agent.restListenAddress;
  config.agent.socketDir = join(dir, "agent");
  return { config, dir };
}
