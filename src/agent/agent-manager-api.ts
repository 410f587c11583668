// What the rest of the daemon asks of the guest agents (server/services/agent.ts, the REST calls,
// snapshots): implemented by agent-manager.ts, or by disabledAgentManager for an API built
// without agents.

import { HypervisorError } from "../hypervisor/errors.ts";
import type { DirectoryEntry, ExecOptions, ExecResult, FileChunk, FrozenFilesystem, GuestFacts } from "./types.ts";

/** Runs before a request takes its place in the VM's write order (call-order.ts): a check of the VM's state. */
export type BeforeWrite = () => Promise<unknown>;

export type ShutdownKind = "poweroff" | "reboot" | "halt";

export interface AgentManager {
  start(): Promise<void>;
  close(): void;
  /** Cached facts; undefined when the VM's agent never spoke since it started. */
  facts(vmId: string): GuestFacts | undefined;
  connected(vmId: string): boolean;
  ping(vmId: string, opts?: { sequence?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<{ version: string; uptimeSeconds: number }>;
  /**
   * Runs a command in the guest. Commands to one VM are written in the order execute() was
   * called, even when `before` (the caller's check that the VM runs) takes longer for one call
   * than for the next: call it as the RPC arrives, with the checks as `before`.
   */
  execute(vmId: string, opts: ExecOptions, signal?: AbortSignal, before?: BeforeWrite): Promise<ExecResult>;
  /** The file from offset, chunk by chunk (64 KiB), until eof or maxBytes. */
  readFile(vmId: string, path: string, opts?: { offset?: number; maxBytes?: number; signal?: AbortSignal }): AsyncGenerator<FileChunk>;
  /** Writes what `data` yields in 64 KiB chunks; never holds more than one chunk ahead. */
  writeFile(
    vmId: string,
    path: string,
    data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    opts?: { mode?: number; createParents?: boolean; signal?: AbortSignal },
  ): Promise<{ bytesWritten: number }>;
  shutdown(
    vmId: string,
    kind: ShutdownKind,
    opts?: { delaySeconds?: number; message?: string; signal?: AbortSignal },
  ): Promise<{ accepted: boolean; error: string }>;
  quiesce(
    vmId: string,
    opts?: { mountPoints?: string[]; timeoutSeconds?: number; runScripts?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; token: string; frozen: FrozenFilesystem[]; error: string }>;
  thaw(
    vmId: string,
    opts?: { token?: string; mountPoints?: string[]; runScripts?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; thawed: string[]; frozenDurationMs: number; error: string }>;
  syncTime(
    vmId: string,
    opts?: { force?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; offsetSeconds: number; timeSource: string; error: string }>;
  listDirectory(
    vmId: string,
    path: string,
    opts?: { includeHidden?: boolean; signal?: AbortSignal },
  ): Promise<{ success: boolean; entries: DirectoryEntry[]; error: string }>;
  /** Open connections and pending requests (leak checks). */
  stats(): { connections: number; pending: number };
}

/** For an API built without agents: every call is UNAVAILABLE, no VM has facts. */
export function disabledAgentManager(): AgentManager {
  const off = async (): Promise<never> => {
    throw new HypervisorError("unavailable", "this daemon runs without the guest agent manager");
  };
  return {
    start: async () => {},
    close() {},
    facts: () => undefined,
    connected: () => false,
    ping: off,
    execute: off,
    // biome-ignore lint/correctness/useYield: it only fails
    async *readFile() {
      await off();
    },
    writeFile: off,
    shutdown: off,
    quiesce: off,
    thaw: off,
    syncTime: off,
    listDirectory: off,
    stats: () => ({ connections: 0, pending: 0 }),
  };
}
