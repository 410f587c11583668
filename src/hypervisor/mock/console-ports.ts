// Console (VNC/SPICE) ports handed out like libvirt's autoport: the lowest free port from the
// base upward, returned when the VM's qemu process goes away.

import { HypervisorError } from "../errors.ts";

export interface PortAllocator {
  /** `serve`: a console server should listen on the port (served-console-ports.ts). */
  allocate(serve?: { name: string }): number;
  release(port: number): void;
  readonly inUse: number;
}

export function createPortAllocator(base = 5900, last = 65535): PortAllocator {
  const used = new Set<number>();
  // Every port below `hint` is in use, so the scan for the lowest free port starts there.
  let hint = base;
  return {
    allocate() {
      for (let port = hint; port <= last; port++) {
        if (!used.has(port)) {
          used.add(port);
          hint = port + 1;
          return port;
        }
      }
      throw new HypervisorError("resource_exhausted", `no free console port between ${base} and ${last}`);
    },
    release(port) {
      if (used.delete(port) && port < hint) hint = port;
    },
    get inUse() {
      return used.size;
    },
  };
}
