// REST qemu-agent/ping (contract 5.2 row 2): does the QEMU guest agent (qemu-ga) in the VM answer?
// Asked through the backend's qemuAgentCommand (libvirt's virDomainQemuAgentCommand), as the
// Rust node asks `virsh qemu-agent-command <vm> '{"execute":"guest-ping"}' --timeout 5`.

import type { Hypervisor } from "../hypervisor/types.ts";

const PING = JSON.stringify({ execute: "guest-ping" });
const TIMEOUT_SECONDS = 5;

export type QemuAgentPing = (vmId: string) => Promise<{ available: boolean; error?: string }>;

/** { qemuAgentPing } for a backend that can reach qemu-ga; {} for one that cannot (the mock). */
export function qemuAgentPingOf(hypervisor: Pick<Hypervisor, "qemuAgentCommand">): { qemuAgentPing?: QemuAgentPing } {
  const command = hypervisor.qemuAgentCommand?.bind(hypervisor);
  if (!command) return {};
  return {
    async qemuAgentPing(vmId) {
      try {
        await command(vmId, PING, TIMEOUT_SECONDS);
        return { available: true };
      } catch (err) {
        return { available: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
