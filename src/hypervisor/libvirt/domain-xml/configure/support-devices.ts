// Devices every VM gets: a serial console on a pty, the QEMU guest agent channel (libvirt picks
// the socket path), a virtio balloon for memory statistics, and a virtio RNG fed by the host.

import type { DevicesDef } from "../model.ts";

export function configureSupportDevices(): Pick<DevicesDef, "serials" | "consoles" | "channels" | "memballoon" | "rngs"> {
  return {
    serials: [{ type: "pty", targetPort: 0 }],
    consoles: [{ type: "pty", targetType: "serial", targetPort: 0 }],
    channels: [{ type: "unix", targetType: "virtio", targetName: "org.qemu.guest_agent.0" }],
    memballoon: { model: "virtio" },
    rngs: [{ model: "virtio", backendModel: "random", backend: "/dev/urandom" }],
  };
}
