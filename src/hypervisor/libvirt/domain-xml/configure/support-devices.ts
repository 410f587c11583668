// Devices every VM gets: a serial console on a pty, the Quantix agent channel (a unix socket the
// node chose: <agent.socket_dir>/<uuid>.agent.sock, contract 4.1), the QEMU guest agent channel
// (libvirt picks the socket path), a virtio balloon for memory statistics, and a virtio RNG fed
// by the host.

import type { DevicesDef } from "../model.ts";

export const QUANTIX_AGENT_CHANNEL = "org.quantix.agent.0";
export const QEMU_AGENT_CHANNEL = "org.qemu.guest_agent.0";

/** agentSocketPath: where the Quantix agent channel's socket is bound; absent: no such channel. */
export function configureSupportDevices(agentSocketPath?: string): Pick<DevicesDef, "serials" | "consoles" | "channels" | "memballoon" | "rngs"> {
  return {
    serials: [{ type: "pty", targetPort: 0 }],
    consoles: [{ type: "pty", targetType: "serial", targetPort: 0 }],
    channels: [
      ...(agentSocketPath !== undefined ? [{ type: "unix", targetType: "virtio", targetName: QUANTIX_AGENT_CHANNEL, sourcePath: agentSocketPath }] : []),
      { type: "unix", targetType: "virtio", targetName: QEMU_AGENT_CHANNEL },
    ],
    memballoon: { model: "virtio" },
    rngs: [{ model: "virtio", backendModel: "random", backend: "/dev/urandom" }],
  };
}
