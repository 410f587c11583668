// A minimal RFB server on one TCP port showing the demo screen: what the mock hypervisor runs
// for each running VM, so a browser's noVNC has a real console to show. It costs nothing while
// no client is connected (a listening socket, no timer); with a client, it answers update
// requests: a full screen at once, an incremental one with the redrawn bar at most every
// MIN_UPDATE_MS. It never queues more than one update per client: the next one is drawn only
// after the last was written out (drain), so a slow client slows the updates, not the memory.

import type { Socket, TCPSocketListener } from "bun";
import { BAR_HEIGHT, renderRect, SCREEN_HEIGHT, SCREEN_WIDTH, type Scene } from "./demo-screen.ts";
import { encodeFramebufferUpdate, encodePixels, type RawRect } from "./messages.ts";
import { createRfbServerSession, type RfbServerSession } from "./server-session.ts";

export const MIN_UPDATE_MS = 250;

export interface DemoConsoleOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The desktop name (the VM's name) and the tint of the screen. */
  name: string;
  /** Wall-clock milliseconds (Date.now by default). */
  now?: () => number;
}

export interface DemoConsole {
  readonly port: number;
  /** Clients connected right now. */
  readonly clients: number;
  /** Closes the port and every client connection. */
  close(): void;
}

interface Client {
  session: RfbServerSession;
  /** Bytes of the last write the socket did not take yet. */
  unsent?: Uint8Array;
  /** An incremental request waiting for its turn. */
  wantsBar: boolean;
  wantsFull: boolean;
  timer?: ReturnType<typeof setTimeout>;
  lastSentMs: number;
  frame: number;
}

export function listenDemoConsole(opts: DemoConsoleOptions): DemoConsole {
  const now = opts.now ?? Date.now;
  const clients = new Set<Socket<Client>>();

  function write(socket: Socket<Client>, bytes: Uint8Array): void {
    const c = socket.data;
    if (c.unsent) {
      // Only handshake replies can come in behind unsent bytes (updates wait for the drain).
      c.unsent = Buffer.concat([c.unsent, bytes]);
      return;
    }
    const written = socket.write(bytes);
    if (written < 0) return;
    if (written < bytes.length) c.unsent = bytes.subarray(written);
  }

  function rect(c: Client, r: { x: number; y: number; width: number; height: number }): RawRect {
    const scene: Scene = { vmName: opts.name, frame: c.frame, timeMs: now() };
    return { ...r, pixels: encodePixels(renderRect(scene, r), c.session.pixelFormat) };
  }

  /** Sends what is asked for when the socket has room and the rate allows; else waits. */
  function pump(socket: Socket<Client>): void {
    const c = socket.data;
    if (c.unsent || c.timer || !c.session.ready) return;
    if (c.wantsFull) {
      c.wantsFull = false;
      c.wantsBar = false;
      c.frame++;
      c.lastSentMs = now();
      write(socket, encodeFramebufferUpdate([rect(c, { x: 0, y: 0, width: SCREEN_WIDTH, height: SCREEN_HEIGHT })]));
      return;
    }
    if (!c.wantsBar) return;
    const wait = c.lastSentMs + MIN_UPDATE_MS - now();
    if (wait > 0) {
      c.timer = setTimeout(() => {
        c.timer = undefined;
        pump(socket);
      }, wait);
      c.timer.unref?.();
      return;
    }
    c.wantsBar = false;
    c.frame++;
    c.lastSentMs = now();
    write(socket, encodeFramebufferUpdate([rect(c, { x: 0, y: 0, width: SCREEN_WIDTH, height: BAR_HEIGHT })]));
  }

  function drop(socket: Socket<Client>): void {
    clearTimeout(socket.data.timer);
    socket.data.timer = undefined;
    clients.delete(socket);
  }

  const listener: TCPSocketListener<Client> = Bun.listen<Client>({
    hostname: opts.host,
    port: opts.port,
    socket: {
      open(socket) {
        socket.data = {
          session: createRfbServerSession({ width: SCREEN_WIDTH, height: SCREEN_HEIGHT, name: opts.name }),
          wantsBar: false,
          wantsFull: false,
          lastSentMs: 0,
          frame: 0,
        };
        clients.add(socket);
        write(socket, socket.data.session.greeting());
      },
      data(socket, bytes) {
        const c = socket.data;
        try {
          const { replies, requests } = c.session.receive(bytes);
          for (const r of replies) write(socket, r);
          for (const r of requests) {
            if (r.incremental) c.wantsBar = true;
            else c.wantsFull = true;
          }
        } catch {
          // Bytes no RFB client sends: this is not a client worth answering.
          socket.end();
          return;
        }
        pump(socket);
      },
      drain(socket) {
        const c = socket.data;
        if (c.unsent) {
          const rest = c.unsent;
          c.unsent = undefined;
          write(socket, rest);
        }
        pump(socket);
      },
      close: drop,
      error: drop,
    },
  });

  // Like the mock's timers, a console nobody closed never keeps the process alive.
  listener.unref();
  return {
    port: listener.port,
    get clients() {
      return clients.size;
    },
    close() {
      listener.stop(true);
      for (const s of clients) {
        drop(s);
        s.end();
      }
    },
  };
}
