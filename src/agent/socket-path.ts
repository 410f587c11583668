// Where a VM's agent socket is on the host (contract section 4.1): the path the node puts in
// every domain it defines, then the channel folders libvirt picks itself for domains defined
// elsewhere (only folders whose name holds the VM's UUID), under both channel names.

import { readdirSync, statSync } from "node:fs";
import { posix } from "node:path";

export const AGENT_CHANNEL = "org.quantix.agent.0";
export const LEGACY_AGENT_CHANNEL = "org.limiquantix.agent.0";
export const DEFAULT_CHANNEL_ROOTS = ["/run/libvirt/qemu/channel", "/var/lib/libvirt/qemu/channel"];

/** The socket the node binds for a VM it defines. */
export function agentSocketPath(socketDir: string, vmId: string): string {
  return posix.join(socketDir, `${vmId}.agent.sock`);
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** The first existing socket in the search order, or undefined. */
export function findAgentSocket(socketDir: string, vmId: string, channelRoots: readonly string[] = DEFAULT_CHANNEL_ROOTS): string | undefined {
  const own = agentSocketPath(socketDir, vmId);
  if (isSocket(own)) return own;
  for (const root of channelRoots) {
    let dirs: string[];
    try {
      dirs = readdirSync(root).filter((d) => d.toLowerCase().includes(vmId.toLowerCase()));
    } catch {
      continue;
    }
    for (const d of dirs) {
      for (const name of [AGENT_CHANNEL, LEGACY_AGENT_CHANNEL]) {
        const p = posix.join(root, d, name);
        if (isSocket(p)) return p;
      }
    }
  }
  return undefined;
}
