// The bridge's backpressure both ways, with a real TCP "VNC server" and a browser socket the
// test drives: what the proxy holds stays bounded when either side stops reading, and every
// byte arrives, in order, once it reads again.

import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { type BrowserSocket, createVncBridge, HIGH_WATER, MAX_TO_VNC } from "../../../src/server/console-proxy/vnc-bridge.ts";
import { waitFor } from "../../support/daemon.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const CHUNK = 64 << 10;
const pattern = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);

interface FakeBrowser extends BrowserSocket {
  buffered: number;
  received: number;
  paused: boolean;
  closedWith?: number;
  badByteAt?: number;
  largestSend: number;
}

function fakeBrowser(): FakeBrowser {
  const b: FakeBrowser = {
    buffered: 0,
    received: 0,
    paused: false,
    largestSend: 0,
    send(data) {
      b.largestSend = Math.max(b.largestSend, data.length);
      for (let i = 0; i < data.length; i++) if (data[i] !== (b.received + i) % 251 && b.badByteAt === undefined) b.badByteAt = b.received + i;
      b.received += data.length;
      b.buffered += data.length;
      return -1; // queued: backpressure
    },
    close(code) {
      b.closedWith = code;
    },
    pause() {
      b.paused = true;
    },
    resume() {
      b.paused = false;
    },
    getBufferedAmount: () => b.buffered,
  };
  return b;
}

/** Waits until `value` stops growing (three looks 50 ms apart), bounded. */
async function plateau(value: () => number): Promise<number> {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 200 && same < 3; i++) {
    await Bun.sleep(50);
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
  return last;
}

let servers: TCPSocketListener<unknown>[] = [];
afterEach(() => {
  for (const s of servers) s.stop(true);
  servers = [];
});

test("a browser that stops reading pauses VNC: the proxy holds at most HIGH_WATER plus two reads", async () => {
  let written = 0;
  let vncSide: Socket<unknown> | undefined;
  const pump = (s: Socket<unknown>) => {
    for (;;) {
      const n = s.write(pattern(written, CHUNK));
      if (n > 0) written += n;
      if (n < CHUNK) return; // the kernel is full; drain() calls again
    }
  };
  const server = Bun.listen<unknown>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (s) => ((vncSide = s), pump(s)), drain: pump, data() {} },
  });
  servers.push(server);
  const bridge = createVncBridge(silent);
  const h = bridge.connection({ vmId: "vm", host: "127.0.0.1", port: server.port, sessionId: "s", username: "u" });
  const browser = fakeBrowser();
  h.open(browser);

  const stalledAt = await plateau(() => written);
  console.log(
    `VNC wrote ${(stalledAt / 2 ** 20).toFixed(1)} MiB before the stall; the proxy passed ${(browser.received / 2 ** 20).toFixed(2)} MiB ` +
      `to the browser socket (largest read ${browser.largestSend >> 10} KiB)`,
  );
  expect(browser.buffered).toBeGreaterThan(HIGH_WATER);
  // Past the mark, the proxy stops reading: at most the read that crossed it and one already in
  // flight (Bun may deliver a read it had taken before the pause).
  expect(browser.buffered).toBeLessThanOrEqual(HIGH_WATER + 2 * browser.largestSend);
  expect(browser.largestSend).toBeLessThanOrEqual(1 << 20);

  // The browser catches up: the proxy reads VNC again and the stream goes on, intact.
  for (let round = 0; round < 3; round++) {
    const before = browser.received;
    browser.buffered = 0;
    h.drain(browser);
    await waitFor("bytes after the drain", () => browser.received > before + HIGH_WATER);
  }
  expect(browser.badByteAt).toBeUndefined();
  expect(vncSide).toBeDefined();
  h.close(browser);
});

test("VNC that stops reading pauses the browser; all input arrives in order after; a browser ignoring the pause is cut off", async () => {
  let got = 0;
  let bad: number | undefined;
  let vncSide: Socket<unknown> | undefined;
  const server = Bun.listen<unknown>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        vncSide = s;
        s.pause();
      },
      data(_s, data: Uint8Array) {
        for (let i = 0; i < data.length; i++) if (data[i] !== (got + i) % 251 && bad === undefined) bad = got + i;
        got += data.length;
      },
    },
  });
  servers.push(server);
  const bridge = createVncBridge(silent);
  const h = bridge.connection({ vmId: "vm", host: "127.0.0.1", port: server.port, sessionId: "s", username: "u" });
  const browser = fakeBrowser();
  h.open(browser);
  expect(browser.paused).toBe(true); // until VNC answers
  await waitFor("the VNC connection", () => vncSide !== undefined && !browser.paused);

  // A well-behaved browser sends while not paused (a real WebSocket stops reading then).
  let sent = 0;
  for (let i = 0; i < 2000 && !browser.paused; i++) {
    h.message(browser, pattern(sent, CHUNK));
    sent += CHUNK;
  }
  expect(browser.paused).toBe(true);
  console.log(`the browser got paused after ${(sent / 2 ** 20).toFixed(1)} MiB with VNC not reading`);
  vncSide?.resume();
  await waitFor("VNC to read everything", () => got === sent && !browser.paused);
  expect(bad).toBeUndefined();

  // One that keeps sending while paused is cut off, not buffered without end.
  vncSide?.pause();
  for (let i = 0; i < 2000 && browser.closedWith === undefined; i++) {
    h.message(browser, pattern(sent, CHUNK));
    sent += CHUNK;
  }
  expect(browser.closedWith).toBe(1009);
  // What it got away with: the proxy's limit plus what the kernel's socket buffers took.
  expect(sent - got).toBeLessThan(MAX_TO_VNC + 48 * 2 ** 20);
  expect(bridge.open()).toBe(0);
});

test("closing either side closes the other; logout closes the session's consoles", async () => {
  const vncSockets: Socket<unknown>[] = [];
  let vncClosed = 0;
  const server = Bun.listen<unknown>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { open: (s) => void vncSockets.push(s), close: () => void vncClosed++, data() {} },
  });
  servers.push(server);
  const bridge = createVncBridge(silent);
  const target = (sessionId: string) => ({ vmId: "vm", host: "127.0.0.1", port: server.port, sessionId, username: "u" });
  const [a, b, c] = [fakeBrowser(), fakeBrowser(), fakeBrowser()];
  const [ha, hb, hc] = [bridge.connection(target("s1")), bridge.connection(target("s1")), bridge.connection(target("s2"))];
  ha.open(a);
  hb.open(b);
  hc.open(c);
  await waitFor("three VNC connections", () => vncSockets.length === 3 && !a.paused && !b.paused && !c.paused);
  expect(bridge.open()).toBe(3);

  ha.close(a); // the browser went away
  await waitFor("VNC to see the close", () => vncClosed === 1);
  bridge.closeSession("s1"); // logout
  expect(b.closedWith).toBe(1000);
  await waitFor("VNC to see the logout", () => vncClosed === 2);
  vncSockets[2]?.end(); // the VM's console went away
  await waitFor("the browser to be closed", () => c.closedWith === 1000);
  expect(bridge.open()).toBe(0);

  // Nothing listening: the browser is told at once.
  server.stop(true);
  const d = fakeBrowser();
  bridge.connection(target("s3")).open(d);
  await waitFor("the refusal", () => d.closedWith === 1011);
});
