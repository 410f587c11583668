// `vm console`: where the VM's VNC or SPICE console listens and the commands that open it.

import { defineCommand } from "citty";
import { type ConsoleInfoResponse, ConsoleInfoResponseSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { runClient } from "./failures.ts";
import { fields, jsonText } from "./format.ts";
import { resolveVm, vmLabel } from "./resolve-vm.ts";

const WILDCARDS = new Set(["", "0.0.0.0", "::"]);
const hostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Pure: the lines an operator needs. The daemon answers its management address for a console
 * listening on every address; an older or unconfigured one may still answer the wildcard, which
 * is reached through the host the daemon was reached at. vncviewer (TigerVNC, RealVNC) takes a
 * raw port after a double colon; a single colon would mean a display number.
 */
export function consoleHowTo(c: ConsoleInfoResponse, daemonHost: string): string {
  const host = WILDCARDS.has(c.host) ? daemonHost : c.host;
  const at = hostPort(host, c.port);
  const pairs: [string, string][] = [
    ["type", c.type || "-"],
    ["host", host],
    ["port", String(c.port)],
  ];
  if (c.tlsPort) pairs.push(["tls port", String(c.tlsPort)]);
  if (c.password) pairs.push(["password", c.password]);
  if (c.type === "vnc") {
    pairs.push(["connect", `vncviewer ${host.includes(":") ? `[${host}]` : host}::${c.port}`], ["or", `remote-viewer vnc://${at}`]);
  } else {
    pairs.push(["connect", `remote-viewer ${c.type || "spice"}://${at}`]);
  }
  if (c.websocketPort) pairs.push(["websocket", `ws://${hostPort(host, c.websocketPort)}${c.websocketPath || "/"} (noVNC)`]);
  return fields(pairs);
}

export const consoleCommand = defineCommand({
  meta: { name: "console", description: "Print how to connect to a running VM's console (VNC or SPICE): address, password, viewer command" },
  args: withExamples({ vm: { type: "positional", description: "VM name or id", required: true }, ...clientArgs }, [
    "vm console web-1",
    "vm console web-1 --json",
  ]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const info = await conn.client.getConsole({ vmId: ref.id });
      if (args.json) return void out(jsonText(ConsoleInfoResponseSchema, info));
      out(`console of vm ${vmLabel(ref)}`);
      out(consoleHowTo(info, conn.target.host));
    }),
});
