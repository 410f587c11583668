// The agent protocol's requests (contract 4.4) in the daemon's own terms: each method builds
// its request, names the reply it waits for and its timeout (contract 4.2), and turns the reply
// into plain data. Connections, ordering and reconnects are the manager's (agent-manager.ts).

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ShutdownType } from "../gen/limiquantix/agent/v1/agent_pb.ts";
import { HypervisorError } from "../hypervisor/errors.ts";
import type { AgentRequest, PayloadCase, PayloadOf } from "./agent-connection.ts";
import type { AgentManager, BeforeWrite } from "./agent-manager-api.ts";
import { rechunk } from "./rechunk.ts";

export const FILE_CHUNK_BYTES = 64 * 1024;

/** One request to one VM's agent, written in its turn (call-order.ts). */
export type AgentCall = <R extends PayloadCase>(
  vmId: string,
  request: AgentRequest,
  reply: R,
  timeoutMs: number,
  signal?: AbortSignal,
  before?: BeforeWrite,
) => Promise<PayloadOf<R>>;

export type GuestRequests = Omit<AgentManager, "start" | "close" | "facts" | "connected" | "stats">;

const num = (v: bigint | number) => Number(v);

/** requestTimeoutMs: requests without a timeout of their own (file chunks, shutdown, ping). */
export function guestRequests(call: AgentCall, requestTimeoutMs: number): GuestRequests {
  return {
    async ping(id, o = {}) {
      const pong = await call(id, { case: "ping", value: { sequence: BigInt(o.sequence ?? 0) } }, "pong", o.timeoutMs ?? requestTimeoutMs, o.signal);
      return { version: pong.version, uptimeSeconds: num(pong.uptimeSeconds) };
    },
    async execute(id, o, signal, before) {
      const timeoutSeconds = o.timeoutSeconds || 60;
      const started = performance.now();
      const r = await call(
        id,
        {
          case: "execute",
          value: {
            command: o.command,
            args: o.args ?? [],
            workingDirectory: o.workingDirectory ?? "",
            environment: o.environment ?? {},
            timeoutSeconds,
            waitForExit: o.waitForExit ?? true,
            includeSupplementaryGroups: true,
          },
        },
        "executeResponse",
        (timeoutSeconds + 5) * 1000,
        signal,
        before,
      );
      return {
        exitCode: r.exitCode,
        stdout: r.stdout,
        stderr: r.stderr,
        timedOut: r.timedOut,
        truncated: r.truncated,
        durationMs: num(r.durationMs) || Math.round(performance.now() - started),
        error: r.error,
      };
    },
    async *readFile(id, path, o = {}) {
      let offset = o.offset ?? 0;
      const limit = o.maxBytes && o.maxBytes > 0 ? offset + o.maxBytes : Number.POSITIVE_INFINITY;
      for (;;) {
        const want = Math.min(FILE_CHUNK_BYTES, limit - offset);
        const r = await call(
          id,
          { case: "fileRead", value: { path, offset: BigInt(offset), length: BigInt(want), chunkSize: FILE_CHUNK_BYTES } },
          "fileReadResponse",
          requestTimeoutMs,
          o.signal,
        );
        if (!r.success) throw new HypervisorError("invalid_argument", `guest file ${path}: ${r.error || "read failed"}`, "path");
        offset += r.data.length;
        const eof = r.eof || offset >= num(r.totalSize) || offset >= limit;
        yield { data: r.data, offset: offset - r.data.length, totalSize: num(r.totalSize), eof };
        if (eof) return;
        if (r.data.length === 0) throw new HypervisorError("internal", `guest file ${path}: the agent sent an empty chunk before the end`);
      }
    },
    async writeFile(id, path, data, o = {}) {
      let written = 0;
      let index = 0;
      const send = async (chunk: Uint8Array, eof: boolean) => {
        const r = await call(
          id,
          {
            case: "fileWrite",
            value: {
              path,
              data: chunk,
              offset: BigInt(written),
              eof,
              mode: o.mode || 0o644,
              createParents: o.createParents ?? true,
              chunkNumber: index,
              totalChunks: 0,
            },
          },
          "fileWriteResponse",
          requestTimeoutMs,
          o.signal,
        );
        if (!r.success) throw new HypervisorError("invalid_argument", `guest file ${path}: ${r.error || "write failed"}`, "path");
        written += chunk.length;
        index++;
      };
      // One chunk of look-ahead: the last chunk carries eof.
      let held: Uint8Array | undefined;
      for await (const chunk of rechunk(data, FILE_CHUNK_BYTES)) {
        if (held) await send(held, false);
        held = chunk;
      }
      await send(held ?? new Uint8Array(0), true);
      return { bytesWritten: written };
    },
    async shutdown(id, kind, o = {}) {
      const type = kind === "reboot" ? ShutdownType.REBOOT : kind === "halt" ? ShutdownType.HALT : ShutdownType.POWEROFF;
      const r = await call(
        id,
        { case: "shutdown", value: { type, delaySeconds: o.delaySeconds ?? 0, message: o.message ?? "" } },
        "shutdownResponse",
        requestTimeoutMs,
        o.signal,
      );
      return { accepted: r.accepted, error: r.error };
    },
    async quiesce(id, o = {}) {
      const timeoutSeconds = o.timeoutSeconds || 30;
      const r = await call(
        id,
        { case: "quiesce", value: { mountPoints: o.mountPoints ?? [], timeoutSeconds, runPreFreezeScripts: o.runScripts ?? false } },
        "quiesceResponse",
        (timeoutSeconds + 10) * 1000,
        o.signal,
      );
      return {
        success: r.success,
        token: r.quiesceToken,
        frozen: r.frozen.map((f) => ({ mountPoint: f.mountPoint, device: f.device, filesystem: f.filesystem, frozen: f.frozen, error: f.error })),
        error: r.error,
      };
    },
    async thaw(id, o = {}) {
      const r = await call(
        id,
        { case: "thaw", value: { quiesceToken: o.token ?? "", mountPoints: o.mountPoints ?? [], runPostThawScripts: o.runScripts ?? false } },
        "thawResponse",
        requestTimeoutMs,
        o.signal,
      );
      return { success: r.success, thawed: [...r.thawedMountPoints], frozenDurationMs: num(r.frozenDurationMs), error: r.error };
    },
    async syncTime(id, o = {}) {
      const r = await call(id, { case: "syncTime", value: { force: o.force ?? false } }, "syncTimeResponse", 10_000, o.signal);
      return { success: r.success, offsetSeconds: r.offsetSeconds, timeSource: r.timeSource, error: r.error };
    },
    async listDirectory(id, path, o = {}) {
      const r = await call(
        id,
        { case: "listDirectory", value: { path, includeHidden: o.includeHidden ?? false } },
        "listDirectoryResponse",
        requestTimeoutMs,
        o.signal,
      );
      return {
        success: r.success,
        error: r.error,
        entries: r.entries.map((e) => ({
          name: e.name,
          path: e.path,
          isDirectory: e.isDirectory,
          isSymlink: e.isSymlink,
          sizeBytes: num(e.sizeBytes),
          mode: e.mode,
          ...(e.modifiedAt ? { modifiedAt: timestampDate(e.modifiedAt) } : {}),
          ...(e.owner ? { owner: e.owner } : {}),
          ...(e.group ? { group: e.group } : {}),
        })),
      };
    },
  };
}
