// <graphics>, <video> and a USB tablet (absolute pointer, so the console cursor tracks the mouse).

import type { ConsoleSpec } from "../../../types.ts";
import type { DevicesDef } from "../model.ts";

export function configureGraphics(
  console: ConsoleSpec,
  defaultListen: string,
): Pick<DevicesDef, "graphics" | "videos" | "inputs"> {
  if (console.type === "none") return { graphics: [], videos: [], inputs: [] };
  const listen = console.listen ?? defaultListen;
  return {
    graphics: [
      {
        type: console.type,
        port: -1,
        autoport: true,
        listen,
        passwd: console.password,
        listens: [{ type: "address", address: listen }],
      },
    ],
    // QXL is SPICE's paravirtual display; plain VGA works with every guest over VNC.
    videos: [{ model: console.type === "spice" ? "qxl" : "vga" }],
    inputs: [{ type: "tablet", bus: "usb" }],
  };
}
