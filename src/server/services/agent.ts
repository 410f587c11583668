// The guest agent RPCs (contract section 3): logs, ping, execute, files, shutdown, quiesce, thaw,
// time. Access is checked before any of them runs (access.ts, in the interceptor chain); every
// command and file access is logged here with the caller. A VM that does not exist is
// NOT_FOUND; an agent that cannot be reached is UNAVAILABLE (PingAgent answers it in `error`).

import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AgentPingResponseSchema,
  ExecuteInGuestResponseSchema,
  GetVMLogsResponseSchema,
  GuestShutdownResponseSchema,
  NodeDaemonService,
  QuiesceFilesystemsResponseSchema,
  ReadGuestFileResponseSchema,
  SyncTimeResponseSchema,
  ThawFilesystemsResponseSchema,
  type WriteGuestFileRequest,
  WriteGuestFileResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { AgentManager } from "../../agent/agent-manager.ts";
import { clampLines, DEFAULT_QEMU_LOG_DIR, qemuLogPath, tailLog } from "../../agent/vm-log.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import type { Hypervisor, VmStatus } from "../../hypervisor/types.ts";
import { UUID_RE } from "../../hypervisor/validation-checks.ts";
import { callerKey } from "../access.ts";
import type { Logger } from "../deps.ts";
import { invalidField } from "../errors.ts";
import { vmId } from "./vms.ts";

export const AGENT_METHODS = [
  "getVMLogs",
  "pingAgent",
  "executeInGuest",
  "readGuestFile",
  "writeGuestFile",
  "guestShutdown",
  "quiesceFilesystems",
  "thawFilesystems",
  "syncTime",
  "uploadGuestFile",
  "downloadGuestFile",
] as const;

/** The proto names, as interceptors see them (req.method.name). */
export const AGENT_RPC_NAMES: ReadonlySet<string> = new Set(AGENT_METHODS.map((m) => NodeDaemonService.method[m].name));

export type AgentImpl = Pick<ServiceImpl<typeof NodeDaemonService>, (typeof AGENT_METHODS)[number]>;

export interface AgentDeps {
  hypervisor: Hypervisor;
  agents: AgentManager;
  log: Logger;
  /** Where libvirt writes each VM's QEMU log. */
  qemuLogDir?: string;
  /** Largest response message (ReadGuestFile returns at most this much less headroom). */
  maxMessageBytes: number;
}

const MAX_EXEC_TIMEOUT_SECONDS = 3600;
const MAX_PATH_CHARS = 4096;

function guestPath(path: string, field = "path"): string {
  if (!path) throw invalidField(field, "is required");
  if (path.length > MAX_PATH_CHARS) throw invalidField(field, `must be at most ${MAX_PATH_CHARS} characters`);
  if (path.includes("\0")) throw invalidField(field, "must not contain NUL");
  return path;
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A VM by id, or (GetVMLogs) by name. */
async function lookupVm(hv: Hypervisor, idOrName: string, byName: boolean): Promise<VmStatus> {
  if (!idOrName) throw invalidField("vm_id", "is required");
  if (UUID_RE.test(idOrName.toLowerCase()) || !byName) return hv.getVm(vmId(idOrName));
  const vm = (await hv.listVms()).find((v) => v.name === idOrName);
  if (!vm) throw new HypervisorError("not_found", `VM not found: no VM named ${JSON.stringify(idOrName)} on this node`);
  return vm;
}

export function agentHandlers(deps: AgentDeps): AgentImpl {
  const { hypervisor: hv, agents, log } = deps;
  const who = (ctx: HandlerContext) => ctx.values.get(callerKey);
  /** Reading a chunk more than this would overflow the response. */
  const readCap = Math.max(64 * 1024, deps.maxMessageBytes - 64 * 1024);

  async function runningVm(id: string): Promise<string> {
    const vm = await lookupVm(hv, id, false);
    if (vm.state !== "running") throw new HypervisorError("invalid_state", `vm ${vm.id} is ${vm.state}; its guest agent answers only while it runs`);
    return vm.id;
  }

  return {
    async getVMLogs(req) {
      const vm = await lookupVm(hv, req.vmId, true);
      const lines = clampLines(req.lines);
      const tail = await tailLog(qemuLogPath(deps.qemuLogDir ?? DEFAULT_QEMU_LOG_DIR, vm.name), lines);
      return create(GetVMLogsResponseSchema, {
        vmId: vm.id,
        vmName: vm.name,
        qemuLog: tail.lines.join("\n"),
        logPath: tail.path,
        logSizeBytes: BigInt(tail.sizeBytes),
        linesReturned: tail.lines.length,
        truncated: tail.truncated,
        lastModified: tail.lastModified?.toISOString() ?? "",
      });
    },

    async pingAgent(req, ctx) {
      const ping = async (id: string) => {
        const pong = await agents.ping(id, { signal: ctx.signal });
        return create(AgentPingResponseSchema, { connected: true, version: pong.version, uptimeSeconds: BigInt(pong.uptimeSeconds) });
      };
      const notRunning = (vm: VmStatus) =>
        create(AgentPingResponseSchema, { connected: false, error: `vm ${vm.id} is ${vm.state}; its guest agent answers only while it runs` });
      // A connected agent is pinged straight away: the VM's state from libvirt costs a libvirtd
      // round trip and a domain XML parse, many times the ping itself. The state is looked up
      // only when the agent is not connected, or to explain a failed ping.
      const id = UUID_RE.test(req.vmId.toLowerCase()) ? req.vmId.toLowerCase() : undefined;
      if (id !== undefined && agents.connected(id)) {
        try {
          return await ping(id);
        } catch (err) {
          if (err instanceof HypervisorError && err.kind === "cancelled") throw err;
          const vm = await lookupVm(hv, id, false);
          if (vm.state !== "running") return notRunning(vm);
          return create(AgentPingResponseSchema, { connected: false, error: reason(err) });
        }
      }
      const vm = await lookupVm(hv, req.vmId, false);
      if (vm.state !== "running") return notRunning(vm);
      try {
        return await ping(vm.id);
      } catch (err) {
        if (err instanceof HypervisorError && err.kind === "cancelled") throw err;
        return create(AgentPingResponseSchema, { connected: false, error: reason(err) });
      }
    },

    async executeInGuest(req, ctx) {
      if (!req.command) throw invalidField("command", "is required");
      if (req.timeoutSeconds > MAX_EXEC_TIMEOUT_SECONDS)
        throw invalidField("timeout_seconds", `must be at most ${MAX_EXEC_TIMEOUT_SECONDS}, got ${req.timeoutSeconds}`);
      // The command takes its place in the guest's order now, as the call arrives; the check
      // that the VM runs (a libvirt round trip) runs inside that turn (agent/call-order.ts).
      const id = vmId(req.vmId);
      log.info(`ExecuteInGuest vm ${id} by ${who(ctx)}: ${JSON.stringify([req.command, ...req.args])}`);
      try {
        const r = await agents.execute(
          id,
          {
            command: req.command,
            args: req.args,
            timeoutSeconds: req.timeoutSeconds,
            workingDirectory: req.workingDirectory,
            environment: req.environment,
            waitForExit: true,
          },
          ctx.signal,
          () => runningVm(id),
        );
        return create(ExecuteInGuestResponseSchema, {
          success: r.exitCode === 0 && !r.timedOut && !r.error,
          exitCode: r.exitCode,
          stdout: r.stdout,
          stderr: r.stderr,
          timedOut: r.timedOut,
          durationMs: BigInt(r.durationMs),
          error: r.error,
        });
      } catch (err) {
        if (err instanceof HypervisorError && err.kind === "timeout") {
          return create(ExecuteInGuestResponseSchema, { success: false, exitCode: -1, timedOut: true, error: err.message });
        }
        throw err;
      }
    },

    async readGuestFile(req, ctx) {
      const path = guestPath(req.path);
      const id = await runningVm(req.vmId);
      log.info(`ReadGuestFile vm ${id} by ${who(ctx)}: ${JSON.stringify(path)} offset ${req.offset}`);
      const max = Math.min(readCap, Number(req.maxSize) || readCap);
      const parts: Uint8Array[] = [];
      let got = 0;
      let total = 0;
      let eof = false;
      try {
        for await (const chunk of agents.readFile(id, path, { offset: Number(req.offset), maxBytes: max, signal: ctx.signal })) {
          parts.push(chunk.data);
          got += chunk.data.length;
          total = chunk.totalSize;
          eof = chunk.offset + chunk.data.length >= chunk.totalSize;
        }
      } catch (err) {
        if (err instanceof HypervisorError && err.kind === "invalid_argument")
          return create(ReadGuestFileResponseSchema, { success: false, error: err.message });
        throw err;
      }
      return create(ReadGuestFileResponseSchema, { success: true, data: Buffer.concat(parts, got), totalSize: BigInt(total), eof });
    },

    async writeGuestFile(req, ctx) {
      const path = guestPath(req.path);
      const id = await runningVm(req.vmId);
      log.info(`WriteGuestFile vm ${id} by ${who(ctx)}: ${JSON.stringify(path)} (${req.data.length} bytes)`);
      try {
        const { bytesWritten } = await agents.writeFile(id, path, [req.data], { mode: req.mode, createParents: true, signal: ctx.signal });
        return create(WriteGuestFileResponseSchema, { success: true, bytesWritten: BigInt(bytesWritten) });
      } catch (err) {
        if (err instanceof HypervisorError && err.kind === "invalid_argument")
          return create(WriteGuestFileResponseSchema, { success: false, error: err.message });
        throw err;
      }
    },

    async uploadGuestFile(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done) throw invalidField("vm_id", "the stream is empty; the first message names the VM and the file");
      const head: WriteGuestFileRequest = first.value;
      const path = guestPath(head.path);
      const id = await runningVm(head.vmId);
      log.info(`UploadGuestFile vm ${id} by ${who(ctx)}: ${JSON.stringify(path)}`);
      async function* data() {
        yield head.data;
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          yield next.value.data;
        }
      }
      try {
        const { bytesWritten } = await agents.writeFile(id, path, data(), { mode: head.mode, createParents: head.createParents || true, signal: ctx.signal });
        log.info(`UploadGuestFile vm ${id} by ${who(ctx)}: ${JSON.stringify(path)} done, ${bytesWritten} bytes`);
        return create(WriteGuestFileResponseSchema, { success: true, bytesWritten: BigInt(bytesWritten) });
      } catch (err) {
        if (err instanceof HypervisorError && err.kind === "invalid_argument")
          return create(WriteGuestFileResponseSchema, { success: false, error: err.message });
        throw err;
      }
    },

    async *downloadGuestFile(req, ctx) {
      const path = guestPath(req.path);
      const id = await runningVm(req.vmId);
      log.info(`DownloadGuestFile vm ${id} by ${who(ctx)}: ${JSON.stringify(path)} offset ${req.offset}`);
      const max = Number(req.maxSize) || undefined;
      for await (const chunk of agents.readFile(id, path, { offset: Number(req.offset), ...(max ? { maxBytes: max } : {}), signal: ctx.signal })) {
        yield create(ReadGuestFileResponseSchema, { success: true, data: chunk.data, totalSize: BigInt(chunk.totalSize), eof: chunk.eof });
      }
    },

    async guestShutdown(req, ctx) {
      const id = await runningVm(req.vmId);
      log.info(`GuestShutdown vm ${id} by ${who(ctx)}: ${req.reboot ? "reboot" : "poweroff"}`);
      const r = await agents.shutdown(id, req.reboot ? "reboot" : "poweroff", { delaySeconds: req.delaySeconds, message: req.message, signal: ctx.signal });
      return create(GuestShutdownResponseSchema, r);
    },

    async quiesceFilesystems(req, ctx) {
      const id = await runningVm(req.vmId);
      log.info(`QuiesceFilesystems vm ${id} by ${who(ctx)}: ${req.mountPoints.join(", ") || "all"}`);
      const r = await agents.quiesce(id, {
        mountPoints: req.mountPoints,
        timeoutSeconds: req.timeoutSeconds,
        runScripts: req.runPreFreezeScripts,
        signal: ctx.signal,
      });
      return create(QuiesceFilesystemsResponseSchema, { success: r.success, frozen: r.frozen, error: r.error, quiesceToken: r.token });
    },

    async thawFilesystems(req, ctx) {
      const id = await runningVm(req.vmId);
      log.info(`ThawFilesystems vm ${id} by ${who(ctx)}`);
      const r = await agents.thaw(id, { token: req.quiesceToken, mountPoints: req.mountPoints, runScripts: req.runPostThawScripts, signal: ctx.signal });
      return create(ThawFilesystemsResponseSchema, {
        success: r.success,
        thawedMountPoints: r.thawed,
        error: r.error,
        frozenDurationMs: BigInt(r.frozenDurationMs),
      });
    },

    async syncTime(req, ctx) {
      const id = await runningVm(req.vmId);
      const r = await agents.syncTime(id, { force: req.force, signal: ctx.signal });
      return create(SyncTimeResponseSchema, r);
    },
  };
}
