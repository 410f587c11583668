// The mock's VMs serve a real console: a raw TCP RFB client reaches a running mock VM's console
// at the address GetConsole names and reads two different updates; stopping the VM closes it.

import { afterEach, expect, test } from "bun:test";
import { BAR_HEIGHT } from "../../src/rfb/demo-screen.ts";
import { closeMocks, create, mock } from "../hypervisor/mock-helpers.ts";
import { rfbOverTcp } from "../support/rfb-client.ts";

afterEach(closeMocks);

const localHost = (host: string) => (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);

test("a running mock VM's console: handshake, a full screen, then a bar that changes; it closes at stop", async () => {
  const hv = mock({ serveConsoles: true });
  const id = await create(hv, { name: "console-vm" });
  await hv.startVm(id);
  const info = await hv.getConsole(id);
  expect(info.type).toBe("vnc");
  const rfb = await rfbOverTcp(localHost(info.host), info.port);
  expect(rfb.serverVersion).toBe("RFB 003.008\n");
  expect(rfb.init).toMatchObject({ width: 640, height: 400, name: "console-vm" });
  expect(rfb.init.pixelFormat.bitsPerPixel).toBe(32);

  const [full] = await rfb.update(false);
  expect(full).toMatchObject({ x: 0, y: 0, width: 640, height: 400 });
  expect(full?.pixels.length).toBe(640 * 400 * 4);
  const [bar1] = await rfb.update(true);
  const [bar2] = await rfb.update(true);
  expect(bar1).toMatchObject({ x: 0, y: 0, width: 640, height: BAR_HEIGHT });
  expect(Buffer.from(bar2!.pixels).equals(Buffer.from(bar1!.pixels))).toBe(false);

  await hv.forceStopVm(id);
  await rfb.closed;
  // The port is free again: nothing listens on it.
  await expect(rfbOverTcp("127.0.0.1", info.port)).rejects.toThrow();
});

test("nothing listens until the console is asked for; a port another process holds by then is given up for a free one", async () => {
  const base = 20900 + Math.floor(Math.random() * 2000) * 2;
  const hv = mock({ serveConsoles: true, consolePortBase: base });
  const id1 = await create(hv);
  await hv.startVm(id1);
  const id2 = await create(hv);
  await hv.startVm(id2);
  // Started, never asked for: no socket (a mock with 10,000 running VMs holds none).
  await expect(rfbOverTcp("127.0.0.1", base)).rejects.toThrow();
  const p1 = (await hv.getConsole(id1)).port;
  expect(p1).toBe(base);
  // Something else takes the second VM's port before anyone asks for its console.
  const squatter = Bun.listen({ hostname: "127.0.0.1", port: base + 1, socket: { data() {} } });
  try {
    const p2 = (await hv.getConsole(id2)).port;
    expect(p2).toBe(base + 2);
    expect((await hv.getConsole(id2)).port).toBe(p2); // stable once served
    const [a, b] = await Promise.all([rfbOverTcp("127.0.0.1", p1), rfbOverTcp("127.0.0.1", p2)]);
    expect(a.init.name).not.toBe(b.init.name);
    a.close();
    b.close();
  } finally {
    squatter.stop(true);
  }
});

test("without serveConsoles (the mock's default outside --dev) the port is only a number", async () => {
  const hv = mock({ consolePortBase: 24900 + Math.floor(Math.random() * 2000) * 2 });
  const id = await create(hv);
  await hv.startVm(id);
  await expect(rfbOverTcp("127.0.0.1", (await hv.getConsole(id)).port)).rejects.toThrow();
});
