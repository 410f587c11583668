// Who may reach inside guests. Running commands and reading files in customer VMs is remote code
// execution, so the agent RPCs and the agent REST calls answer only callers the operator allowed:
// addresses in agent.allowed_callers (default: loopback and the control plane's own address,
// resolved from control_plane.address), a caller presenting the bearer token of
// agent.bearer_token_file, or a caller whose client certificate the configured CA verified
// (mutual TLS). Everyone else is refused: PERMISSION_DENIED on gRPC, 403 on REST.

import { timingSafeEqual } from "node:crypto";
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, createContextKey } from "@connectrpc/connect";
import type { Logger } from "./deps.ts";
import { peerKey } from "./peer.ts";

export interface Caller {
  address: string;
  /** A client certificate the configured CA verified (mutual TLS). */
  verifiedCertificate?: string;
  /** The Authorization header, if any. */
  authorization?: string;
}

export type AccessDecision = { ok: true; who: string } | { ok: false; who: string; why: string };

export interface AccessPolicy {
  check(caller: Caller): AccessDecision;
  /** What is allowed, in words, for logs and refusals. */
  describe(): string;
  close(): void;
}

export interface AccessPolicyOptions {
  /** agent.allowed_callers; undefined: loopback and the control plane. */
  allowedCallers?: readonly string[];
  /** control_plane.address (a URL or host:port). */
  controlPlaneAddress?: string;
  bearerToken?: string;
  resolve?: (host: string) => Promise<string[]>;
  /** How often hostnames are resolved again (default 5 min). */
  refreshMs?: number;
  log?: Logger;
}

const LOOPBACK = ["127.0.0.0/8", "::1"];

const defaultResolve = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

/** "::ffff:10.0.0.1" -> "10.0.0.1"; a zone id is dropped. */
export function normalizeAddress(address: string): string {
  const a = address.replace(/%.*$/, "");
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m?.[1] ?? a;
}

/** The host of control_plane.address: "https://cp.example:8080" or "cp:8080" -> "cp.example" / "cp". */
export function controlPlaneHost(address: string): string | undefined {
  try {
    const url = new URL(address.includes("://") ? address : `http://${address}`);
    return url.hostname.replace(/^\[|\]$/g, "") || undefined;
  } catch {
    return undefined;
  }
}

function blockListOf(patterns: readonly string[], addresses: readonly string[]): BlockList {
  const list = new BlockList();
  for (const p of [...patterns, ...addresses]) {
    const [addr = "", bits] = p.split("/");
    const family = isIP(addr) === 6 ? "ipv6" : isIP(addr) === 4 ? "ipv4" : undefined;
    if (!family) continue;
    if (bits === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bits), family);
  }
  return list;
}

function tokenMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export async function createAccessPolicy(opts: AccessPolicyOptions = {}): Promise<AccessPolicy> {
  const resolve = opts.resolve ?? defaultResolve;
  const cpHost = opts.controlPlaneAddress ? controlPlaneHost(opts.controlPlaneAddress) : undefined;
  const patterns = opts.allowedCallers ?? [...LOOPBACK, ...(cpHost ? [cpHost] : [])];
  const anyone = patterns.includes("*");
  const names = patterns.filter((p) => p !== "*" && !p.includes("/") && isIP(p) === 0);
  let list = blockListOf(patterns, []);
  let resolved: string[] = [];

  async function refresh() {
    const found: string[] = [];
    for (const name of names) {
      try {
        found.push(...(await resolve(name)).map(normalizeAddress));
      } catch (err) {
        opts.log?.warn(`agent access: cannot resolve ${name} (${(err as Error).message}); it is not allowed until it resolves`);
      }
    }
    resolved = found;
    list = blockListOf(patterns, found);
  }
  await refresh();
  const timer = names.length > 0 ? setInterval(() => void refresh(), opts.refreshMs ?? 300_000) : undefined;
  (timer as { unref?: () => void } | undefined)?.unref?.();

  const describe = () =>
    `${anyone ? "every address" : `addresses ${patterns.join(", ")}${resolved.length ? ` (resolved: ${resolved.join(", ")})` : ""}`}` +
    `${opts.bearerToken ? ", callers with the bearer token" : ""}, callers with a verified client certificate`;

  return {
    check(caller) {
      const address = normalizeAddress(caller.address);
      const who = `${address || "unknown address"}${caller.verifiedCertificate ? ` (certificate ${caller.verifiedCertificate})` : ""}`;
      if (tokenMatches(caller.authorization, opts.bearerToken)) return { ok: true, who: `${who} (bearer token)` };
      if (caller.verifiedCertificate) return { ok: true, who };
      if (anyone) return { ok: true, who };
      const family = isIP(address) === 6 ? "ipv6" : isIP(address) === 4 ? "ipv4" : undefined;
      if (family && list.check(address, family)) return { ok: true, who };
      return { ok: false, who, why: `${who} is not allowed to reach inside guests (allowed: ${describe()}); see agent.allowed_callers in the README` };
    },
    describe,
    close: () => {
      if (timer) clearInterval(timer);
    },
  };
}

/** Loopback only: what the API allows when the daemon was given no policy (tests, embedders). */
export function loopbackOnlyPolicy(): AccessPolicy {
  const list = blockListOf(LOOPBACK, []);
  return {
    check(caller) {
      const address = normalizeAddress(caller.address);
      const family = isIP(address) === 6 ? "ipv6" : isIP(address) === 4 ? "ipv4" : undefined;
      const who = address || "unknown address";
      if (family && list.check(address, family)) return { ok: true, who };
      return { ok: false, who, why: `${who} is not allowed to reach inside guests (allowed: loopback)` };
    },
    describe: () => "loopback",
    close() {},
  };
}

/** The caller an agent handler logs (set by the interceptor below). */
export const callerKey = createContextKey<string>("unknown", { description: "allowed agent caller" });

/**
 * The host user of a host UI session (server/host-ui/ui-api.ts sets it, only after its session
 * and CSRF checks): root or a member of host_ui.admin_group, who may reach inside guests.
 */
export const hostUiUserKey = createContextKey<string | undefined>(undefined, { description: "host UI session user" });

/** PERMISSION_DENIED for the given methods unless the policy allows the caller. */
export function agentAccessInterceptor(policy: AccessPolicy, methods: ReadonlySet<string>, log: Logger): Interceptor {
  return (next) => async (req) => {
    if (!methods.has(req.method.name)) return next(req);
    const uiUser = req.contextValues.get(hostUiUserKey);
    if (uiUser !== undefined) {
      req.contextValues.set(callerKey, `host user ${uiUser} (host UI session)`);
      return next(req);
    }
    const peer = req.contextValues.get(peerKey);
    const cert = peer?.certificate;
    const decision = policy.check({
      address: peer?.address ?? "",
      ...(cert ? { verifiedCertificate: `CN=${cert.subjectCn}, serial ${cert.serialNumber}` } : {}),
      ...(req.header.get("authorization") ? { authorization: req.header.get("authorization") as string } : {}),
    });
    if (!decision.ok) {
      log.warn(`refused ${req.method.name}: ${decision.why}`);
      throw new ConnectError(`permission denied: ${decision.why}`, Code.PermissionDenied);
    }
    req.contextValues.set(callerKey, decision.who);
    return next(req);
  };
}
