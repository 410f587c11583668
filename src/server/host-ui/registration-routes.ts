// The control plane's "add host by URL and token" calls (contract section 5, rows 20-22), outside
// the agent REST gate: ping needs no credentials at all, token and discovery need the host's
// registration token as a Bearer token (the control plane may not be configured here yet).

import { VERSION } from "../../version.ts";
import { jsonError } from "./request-guard.ts";
import { type RegistrationTokens, tokenJson } from "./registration-token.ts";

export interface HostFacts {
  hostname(): Promise<string>;
  /** The address the control plane reaches this host on. */
  managementIp(): string;
  discovery(): Promise<unknown>;
}

const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

function buildTarget(): string {
  const arch = ARCH[process.arch] ?? process.arch;
  return process.platform === "darwin" ? `${arch}-apple-darwin` : `${arch}-unknown-${process.platform}-gnu`;
}

/** Row 21's bearer check, which runs before anything else: missing, malformed, then wrong. */
export function bearerProblem(header: string | null, tokens: RegistrationTokens): Response | undefined {
  if (header === null || header.trim() === "") return jsonError(401, "missing_auth", "the Authorization header is missing");
  if (!header.startsWith("Bearer ")) return jsonError(401, "invalid_auth", "the Authorization header must be Bearer <registration token>");
  if (!tokens.accepts(header.slice(7).trim())) return jsonError(401, "invalid_token", "Invalid or expired registration token");
  return undefined;
}

export function registrationRoutes(facts: HostFacts, tokens: RegistrationTokens) {
  return {
    "/api/v1/registration/ping": {
      GET: async () =>
        Response.json({
          status: "ok",
          message: "Quantix node daemon is running and accepts registration",
          version: VERSION,
          apiVersion: "v1",
          hostname: await facts.hostname(),
          managementIp: facts.managementIp(),
          registrationApiSupported: true,
          buildInfo: { package: "limiquantix-node", version: VERSION, target: buildTarget(), os: process.platform },
          timestamp: new Date().toISOString(),
        }),
    },
    "/api/v1/registration/token": {
      GET: async (req: Request) => {
        const refused = bearerProblem(req.headers.get("authorization"), tokens);
        if (refused) return refused;
        const live = tokens.current();
        if (!live) return jsonError(401, "invalid_token", "Invalid or expired registration token");
        return Response.json(tokenJson(live, { hostname: await facts.hostname(), managementIp: facts.managementIp() }, Date.now()));
      },
    },
    "/api/v1/registration/discovery": {
      GET: async (req: Request) => bearerProblem(req.headers.get("authorization"), tokens) ?? Response.json(await facts.discovery()),
    },
  };
}
