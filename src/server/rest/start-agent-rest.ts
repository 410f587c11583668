// Starts the REST listener of agent.rest_listen_address: the configured certificate, or a
// self-signed one made once under node.state_dir/tls. A port that cannot be bound is logged once
// and the daemon runs on without it (the gRPC API is the node's API; this is a side door).

import { readFile } from "node:fs/promises";
import { hostname, networkInterfaces } from "node:os";
import { posix } from "node:path";
import type { NodeConfig } from "../../config/types.ts";
import type { Logger } from "../deps.ts";
import { type AgentRestDeps, type AgentRestListener, type AgentRestOptions, listenAgentRest } from "./agent-rest.ts";
import { loadOrCreateSelfSigned } from "./self-signed.ts";

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) };
}

/** Names the self-signed certificate holds: the host's name and every address it has. */
function hostNames(): string[] {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.replace(/%.*$/, "")));
  return [...new Set([hostname(), "localhost", ...addresses])];
}

/** What serves the listener: the REST calls alone, or with the host UI (server/host-ui/start-https.ts). */
export type RestListen = (deps: AgentRestDeps, opts: AgentRestOptions) => AgentRestListener;

export async function startAgentRest(
  config: NodeConfig,
  deps: AgentRestDeps,
  log: Logger,
  listen: RestListen = listenAgentRest,
): Promise<AgentRestListener | undefined> {
  const address = config.agent.restListenAddress;
  if (address === undefined) return undefined;
  const { host, port } = splitHostPort(address);
  let certPem: string;
  let keyPem: string;
  if (config.agent.restCertPath && config.agent.restKeyPath) {
    [certPem, keyPem] = await Promise.all([readFile(config.agent.restCertPath, "utf8"), readFile(config.agent.restKeyPath, "utf8")]);
  } else {
    const made = await loadOrCreateSelfSigned(posix.join(config.node.stateDir, "tls"), config.node.hostname ?? hostname(), hostNames());
    if (made.created) log.info(`made a self-signed certificate for the REST listener: ${made.path}`);
    ({ certPem, keyPem } = made);
  }
  const clientCaPem = config.agent.restClientCaPath ? await readFile(config.agent.restClientCaPath, "utf8") : undefined;
  try {
    const listener = listen(deps, { host, port, certPem, keyPem, ...(clientCaPem ? { clientCaPem } : {}) });
    log.info(`agent REST calls on https://${address.replace(/:\d+$/, "")}:${listener.port}/api/v1 (allowed: ${deps.access.describe()})`);
    return listener;
  } catch (err) {
    log.error(`the agent REST listener cannot listen on ${address} (${(err as Error).message}); the daemon runs without it`);
    return undefined;
  }
}
