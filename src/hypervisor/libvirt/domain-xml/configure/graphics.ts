// <graphics> and a USB tablet (absolute pointer, so the console cursor tracks the mouse). The
// <video> model is the guest_os profile's (guest-os.ts).
//
// A fixed port is written with autoport='no'; without one libvirt allocates a free port from
// 5900 when the VM starts (port='-1' autoport='yes').

import type { ConsoleSpec } from "../../../types.ts";
import type { DevicesDef } from "../model.ts";

export function configureGraphics(console: ConsoleSpec, defaultListen: string): Pick<DevicesDef, "graphics" | "inputs"> {
  if (console.type === "none") return { graphics: [], inputs: [] };
  const listen = console.listen ?? defaultListen;
  const fixed = console.port !== undefined && console.port > 0;
  return {
    graphics: [
      {
        type: console.type,
        port: fixed ? console.port : -1,
        autoport: !fixed,
        listen,
        passwd: console.password,
        listens: [{ type: "address", address: listen }],
      },
    ],
    inputs: [{ type: "tablet", bus: "usb" }],
  };
}
