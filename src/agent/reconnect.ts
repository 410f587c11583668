// When the agent manager tries again to reach a running VM's agent socket that it could not
// connect to (no socket yet, refused; a guest that is up but silent keeps its connection open and
// needs no retries: agent-manager.ts): quick at first, then up to minutes apart so a VM defined
// without the channel costs nothing at idle; what starts the schedule over (a start, a resume,
// the VM's socket file appearing in the node's socket folder) lives here too.

import { watch } from "node:fs";
import { type BackoffOptions, backoffDelay } from "../common/backoff.ts";
import type { Logger } from "../common/logger.ts";

export const AGENT_RETRY_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 300_000 };

/** Pure: the wait before reconnect number `attempt` (0-based). */
export function agentRetryDelayMs(attempt: number, random: () => number, backoff: BackoffOptions = AGENT_RETRY_BACKOFF): number {
  return backoffDelay(attempt, backoff, random);
}

const SOCKET_SUFFIX = ".agent.sock";

/**
 * Calls onSocket with the VM id of every `<id>.agent.sock` created or removed in socketDir
 * (one inotify watch, no polling); returns the function that stops watching.
 */
export function watchSocketDir(socketDir: string, onSocket: (vmId: string) => void, log: Logger): () => void {
  try {
    const watcher = watch(socketDir, (_kind, file) => {
      const name = typeof file === "string" ? file : undefined;
      if (name?.endsWith(SOCKET_SUFFIX)) onSocket(name.slice(0, -SOCKET_SUFFIX.length));
    });
    watcher.on("error", (err) => log.debug(`agent manager: watching ${socketDir} stopped: ${err.message}`));
    (watcher as { unref?: () => void }).unref?.();
    return () => watcher.close();
  } catch (err) {
    // No folder (no VM defined yet): lifecycle events still start the schedule over.
    log.debug(`agent manager: not watching ${socketDir}: ${(err as Error).message}`);
    return () => undefined;
  }
}
