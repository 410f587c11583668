// The REST calls the control plane makes on :8443 (contract section 5.2, rows 1-12), on
// Bun.serve over TLS. Every call passes the access policy first (403 otherwise); every command
// and file access is logged with the caller. Errors are {"error": code, "message": text}.

import type { Server } from "bun";
import type { AgentManager } from "../../agent/agent-manager.ts";
import { clampLines, DEFAULT_QEMU_LOG_DIR, qemuLogPath, tailLog } from "../../agent/vm-log.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import type { Hypervisor, VmStatus } from "../../hypervisor/types.ts";
import { UUID_RE } from "../../hypervisor/validation-checks.ts";
import type { AccessPolicy } from "../access.ts";
import { guestAgentToJson } from "../convert/guest-agent.ts";
import type { Logger } from "../deps.ts";

export interface AgentRestDeps {
  hypervisor: Hypervisor;
  agents: AgentManager;
  access: AccessPolicy;
  log: Logger;
  qemuLogDir?: string;
  /** qemu-agent/ping: asks the VM's QEMU guest agent through libvirt (agent/qemu-agent-ping.ts); absent: unavailable. */
  qemuAgentPing?: (vmId: string) => Promise<{ available: boolean; error?: string }>;
  /** Largest guest file agent/files/read returns (base64 in JSON). */
  maxReadBytes?: number;
}

export interface AgentRestOptions {
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Mutual TLS: only clients with a certificate this CA signed complete the handshake. */
  clientCaPem?: string;
}

export interface AgentRestListener {
  host: string;
  port: number;
  close(): Promise<void>;
}

const json = (status: number, body: unknown) => Response.json(body, { status });
const fail = (status: number, error: string, message: string) => json(status, { error, message });
const EXEC_TIMEOUT_CAP_SECONDS = 30;
const DEFAULT_MAX_READ = 16 * 1024 * 1024;

async function findVm(hv: Hypervisor, idOrName: string): Promise<VmStatus | undefined> {
  if (UUID_RE.test(idOrName.toLowerCase())) {
    try {
      return await hv.getVm(idOrName.toLowerCase());
    } catch (err) {
      if (err instanceof HypervisorError && err.kind === "not_found") return undefined;
      throw err;
    }
  }
  return (await hv.listVms()).find((v) => v.name === idOrName);
}

async function body(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (!text.trim()) return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new SyntaxError("the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The request handler (a fetch function), without listening: tests call it directly too. */
export function agentRestHandler(deps: AgentRestDeps): (req: Request, peer: { address: string; verifiedCertificate?: string }) => Promise<Response> {
  const { hypervisor: hv, agents, log } = deps;
  const maxRead = deps.maxReadBytes ?? DEFAULT_MAX_READ;

  async function agentPing(vm: VmStatus, sequence: number) {
    if (vm.state !== "running") return guestAgentToJson(undefined, { error: `vm is ${vm.state}` });
    if (sequence === 0 && agents.connected(vm.id)) return guestAgentToJson(agents.facts(vm.id));
    try {
      await agents.ping(vm.id, { sequence, timeoutMs: 5000 });
      return guestAgentToJson(agents.facts(vm.id) ?? { connected: true, ipAddresses: [], interfaces: [], capabilities: [] });
    } catch (err) {
      return guestAgentToJson(agents.facts(vm.id), { error: message(err) });
    }
  }

  return async (req, peer) => {
    const url = new URL(req.url);
    const decision = deps.access.check({
      address: peer.address,
      ...(peer.verifiedCertificate ? { verifiedCertificate: peer.verifiedCertificate } : {}),
      ...(req.headers.get("authorization") ? { authorization: req.headers.get("authorization") as string } : {}),
    });
    if (!decision.ok) {
      log.warn(`refused ${req.method} ${url.pathname}: ${decision.why}`);
      return fail(403, "forbidden", decision.why);
    }
    const who = decision.who;
    const m = /^\/api\/v1\/vms\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) return fail(404, "not_found", `no such call: ${req.method} ${url.pathname}`);
    const route = `${req.method} ${m[2]}`;
    let vm: VmStatus | undefined;
    try {
      vm = await findVm(hv, decodeURIComponent(m[1] ?? ""));
    } catch (err) {
      return fail(500, "list_vms_failed", message(err));
    }
    if (!vm) return fail(404, "vm_not_found", `VM not found: ${m[1]}`);
    const id = vm.id;
    try {
      switch (route) {
        case "GET logs": {
          const lines = clampLines(Number(url.searchParams.get("lines") ?? 100));
          const tail = await tailLog(qemuLogPath(deps.qemuLogDir ?? DEFAULT_QEMU_LOG_DIR, vm.name), lines);
          return json(200, {
            vmId: id,
            vmName: vm.name,
            qemuLog: tail.lines.join("\n"),
            logPath: tail.path,
            logSizeBytes: tail.sizeBytes,
            linesReturned: tail.lines.length,
            truncated: tail.truncated,
            lastModified: tail.lastModified?.toISOString() ?? null,
          });
        }
        case "GET qemu-agent/ping": {
          if (vm.state !== "running") return json(200, { available: false, error: `vm is ${vm.state}` });
          if (!deps.qemuAgentPing) return json(200, { available: false, error: "this node's backend has no QEMU guest agent" });
          return json(200, await deps.qemuAgentPing(vm.id));
        }
        case "GET agent/ping":
          return json(200, await agentPing(vm, 0));
        case "POST agent/refresh":
          await body(req);
          return json(200, await agentPing(vm, 1));
        case "POST agent/install":
          return json(200, {
            success: false,
            message: "not installed",
            error: "installing the agent through qemu-ga is not supported by this node; install it from the agent tools ISO",
            method: "none",
          });
        case "POST agent/update":
          return json(200, { success: false, message: "not updated", error: "updating the agent is not supported by this node" });
        case "GET agent/logs": {
          const lines = Math.min(1000, Math.max(1, Number(url.searchParams.get("lines") ?? 50) || 50));
          log.info(`REST agent/logs vm ${id} by ${who}`);
          const r = await agents.execute(id, { command: `journalctl -u quantix-kvm-agent -n ${lines} --no-pager`, timeoutSeconds: 10 });
          const ok = r.exitCode === 0 && !r.error;
          return json(200, {
            success: ok,
            lines: r.stdout.split("\n").filter((l) => l !== ""),
            ...(ok ? {} : { error: r.error || r.stderr || `exit code ${r.exitCode}` }),
          });
        }
        case "POST agent/shutdown":
        case "POST agent/reboot": {
          await body(req);
          const kind = route.endsWith("reboot") ? "reboot" : "poweroff";
          log.info(`REST agent/${kind} vm ${id} by ${who}`);
          const r = await agents.shutdown(id, kind);
          return json(200, { success: r.accepted, message: r.accepted ? `${kind} requested` : `${kind} refused`, ...(r.error ? { error: r.error } : {}) });
        }
        case "GET agent/files/list": {
          const path = url.searchParams.get("path") || "/";
          log.info(`REST files/list vm ${id} by ${who}: ${JSON.stringify(path)}`);
          const r = await agents.listDirectory(id, path, { includeHidden: url.searchParams.get("include_hidden") === "true" });
          return json(200, {
            success: r.success,
            path,
            entries: r.entries.map((e) => ({ ...e, ...(e.modifiedAt ? { modifiedAt: e.modifiedAt.toISOString() } : {}) })),
            ...(r.error ? { error: r.error } : {}),
          });
        }
        case "GET agent/files/read": {
          const path = url.searchParams.get("path");
          if (!path) return fail(400, "invalid_request", "query parameter path is required");
          log.info(`REST files/read vm ${id} by ${who}: ${JSON.stringify(path)}`);
          const parts: Uint8Array[] = [];
          let size = 0;
          let total = 0;
          try {
            for await (const c of agents.readFile(id, path, { maxBytes: maxRead + 1 })) {
              parts.push(c.data);
              size += c.data.length;
              total = c.totalSize;
            }
          } catch (err) {
            if (err instanceof HypervisorError && err.kind === "invalid_argument") return json(200, { success: false, path, error: err.message });
            throw err;
          }
          if (size > maxRead)
            return json(200, { success: false, path, sizeBytes: total, error: `the file is larger than ${maxRead} bytes; use the DownloadGuestFile RPC` });
          return json(200, { success: true, path, content: Buffer.concat(parts, size).toString("base64"), sizeBytes: size });
        }
        case "POST execute": {
          const b = await body(req);
          const command = typeof b.command === "string" ? b.command : "";
          if (!command) return fail(400, "invalid_request", "command is required");
          const timeout = Math.min(EXEC_TIMEOUT_CAP_SECONDS, Math.max(1, Number(b.timeoutSeconds ?? 30) || 30));
          if (vm.state !== "running")
            return json(200, { success: false, exitCode: -1, stdout: "", stderr: "", timedOut: false, durationMs: 0, error: `vm is ${vm.state}` });
          log.info(`REST execute vm ${id} by ${who}: ${JSON.stringify(command)}`);
          try {
            const r = await agents.execute(id, { command, timeoutSeconds: timeout, waitForExit: b.waitForExit !== false });
            return json(200, {
              success: r.exitCode === 0 && !r.timedOut && !r.error,
              exitCode: r.exitCode,
              stdout: r.stdout,
              stderr: r.stderr,
              timedOut: r.timedOut,
              durationMs: r.durationMs,
              ...(r.error ? { error: r.error } : {}),
            });
          } catch (err) {
            return json(200, {
              success: false,
              exitCode: -1,
              stdout: "",
              stderr: "",
              timedOut: err instanceof HypervisorError && err.kind === "timeout",
              durationMs: 0,
              error: message(err),
            });
          }
        }
        default:
          return fail(404, "not_found", `no such call: ${req.method} ${url.pathname}`);
      }
    } catch (err) {
      if (err instanceof SyntaxError) return fail(400, "invalid_json", err.message);
      if (err instanceof HypervisorError && (err.kind === "unavailable" || err.kind === "timeout")) return fail(503, "agent_unavailable", err.message);
      log.error(`REST ${route} vm ${id} failed:`, err);
      return fail(500, "internal", "internal error in the node daemon; see its log");
    }
  };
}

export function listenAgentRest(deps: AgentRestDeps, opts: AgentRestOptions): AgentRestListener {
  const handle = agentRestHandler(deps);
  const server: Server<undefined> = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    tls: {
      cert: opts.certPem,
      key: opts.keyPem,
      ...(opts.clientCaPem ? { ca: opts.clientCaPem, requestCert: true, rejectUnauthorized: true } : {}),
    },
    fetch(req, srv) {
      const address = srv.requestIP(req)?.address ?? "";
      // Bun.serve cannot show the certificate; under mutual TLS the handshake already refused
      // every client without one the CA signed.
      return handle(req, { address, ...(opts.clientCaPem ? { verifiedCertificate: "client certificate verified by agent.rest_client_ca_path" } : {}) });
    },
  });
  return {
    host: opts.host,
    port: server.port ?? opts.port,
    close: async () => {
      await server.stop(true);
    },
  };
}
