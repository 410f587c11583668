// The daemon itself: what runs under systemd (and with --dev on a laptop).

import { defineCommand } from "citty";
import { createLogger } from "../common/logger.ts";
import { startDaemon } from "../daemon.ts";
import { daemonArgs } from "./daemon-flags.ts";
import { loadDaemonConfig } from "./load-daemon-config.ts";

export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the node daemon (the default command)" },
  args: daemonArgs,
  async run({ args, rawArgs }) {
    const { config, warnings, source } = loadDaemonConfig(args, rawArgs);
    const log = createLogger({ level: config.log.level, format: config.log.format });
    for (const w of warnings) log.warn(w);
    log.info(`config: ${source ?? "defaults (no config file)"}${config.dev ? " (dev mode)" : ""}`);

    const daemon = await startDaemon(config, log);
    // Start-up leaves garbage behind (descriptor bytes decoded at import, the config parse,
    // scratch objects of building the routes). One full collection now returns it (measured:
    // 0.6-0.9 MiB of idle RSS); left alone, an idle daemon gives it back over tens of seconds.
    Bun.gc(true);
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: shutting down (calls in flight get up to ${config.server.shutdownTimeoutSeconds}s)`);
      const hardStop = setTimeout(
        () => {
          log.error("shutdown took too long; exiting anyway");
          process.exit(1);
        },
        (config.server.shutdownTimeoutSeconds + 5) * 1000,
      );
      hardStop.unref();
      try {
        await daemon.stop();
        log.info("stopped");
        process.exit(0);
      } catch (err) {
        log.error("shutdown failed:", err);
        process.exit(1);
      }
    };
    // Installed after every dlopen the backend did (Bun #29844: dlopen can reset handlers).
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));
    process.on("SIGHUP", () => {
      daemon.reloadTls().then(
        () => log.info("SIGHUP: certificates reloaded"),
        (err) => log.error("SIGHUP: certificate reload failed; keeping the old ones:", err),
      );
    });
  },
});
