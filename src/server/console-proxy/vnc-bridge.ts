// The bytes between a browser's WebSocket (noVNC: RFB in binary frames) and the VM's VNC
// server (TCP), both ways, with backpressure on both: when the browser reads slowly, the proxy
// stops reading from VNC (the VNC server then stops drawing); when VNC reads slowly, the proxy
// stops reading from the browser. Nothing is buffered beyond what one read brought in. When
// either side closes, the other is closed too.

import type { Socket } from "bun";
import type { Logger } from "../deps.ts";

/** Pause VNC while more than this waits to go to the browser (resumed when the browser drains). */
export const HIGH_WATER = 1 << 20;
/** Bytes from the browser waiting for VNC beyond which the browser is cut off (it ignored the pause). */
export const MAX_TO_VNC = 4 << 20;

export interface ConsoleTarget {
  vmId: string;
  host: string;
  port: number;
  /** Who opened it, for the log and for closing a session's consoles at logout. */
  sessionId: string;
  username: string;
}

/** What the bridge uses of Bun's ServerWebSocket. */
export interface BrowserSocket {
  send(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
  pause(): void;
  resume(): void;
  getBufferedAmount(): number;
}

/** The WebSocket handlers of one console connection (the listener calls them for this socket). */
export interface ConsoleSocketHandlers {
  open(ws: BrowserSocket): void;
  message(ws: BrowserSocket, message: string | Uint8Array): void;
  close(ws: BrowserSocket): void;
  drain(ws: BrowserSocket): void;
}

export interface VncBridge {
  /** Handlers for a new console WebSocket to `target`. */
  connection(target: ConsoleTarget): ConsoleSocketHandlers;
  /** Consoles open now. */
  open(): number;
  /** Closes every console a session opened (logout). */
  closeSession(sessionId: string): void;
  /** Closes every console (the listener is closing). */
  closeAll(): void;
}

const CLOSE_NORMAL = 1000;
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_INTERNAL = 1011;
const CLOSE_TOO_BIG = 1009;

export function createVncBridge(log: Logger): VncBridge {
  const live = new Map<ConsoleSocketHandlers, { target: ConsoleTarget; end(reason: string): void }>();

  return {
    open: () => live.size,
    closeSession(sessionId) {
      for (const c of [...live.values()]) if (c.target.sessionId === sessionId) c.end("logged out");
    },
    closeAll() {
      for (const c of [...live.values()]) c.end("the node daemon is stopping");
    },
    connection(target) {
      let ws: BrowserSocket | undefined;
      let vnc: Socket<undefined> | undefined;
      let toVnc: Uint8Array[] = [];
      let toVncBytes = 0;
      let closed = false;
      const { host, port, vmId, username } = target;

      function finish(code: number, reason: string): void {
        if (closed) return;
        closed = true;
        live.delete(handlers);
        vnc?.end();
        toVnc = [];
        toVncBytes = 0;
        // Close reasons are limited to 123 bytes.
        ws?.close(code, reason.slice(0, 120));
      }

      /** Writes what waits for VNC; true when all of it went. */
      function flushToVnc(): boolean {
        if (!vnc) return false;
        while (toVnc.length > 0) {
          const head = toVnc[0]!;
          const n = vnc.write(head);
          if (n < 0) return false;
          toVncBytes -= n;
          if (n < head.length) {
            toVnc[0] = head.subarray(n);
            return false;
          }
          toVnc.shift();
        }
        return true;
      }

      function connect(browser: BrowserSocket): void {
        Bun.connect<undefined>({
          hostname: host,
          port,
          socket: {
            data(socket, bytes) {
              if (closed) return;
              if (browser.send(bytes) === 0) return finish(CLOSE_INTERNAL, "the browser is too far behind");
              if (browser.getBufferedAmount() > HIGH_WATER) socket.pause();
            },
            drain() {
              if (!closed && flushToVnc()) browser.resume();
            },
            close: () => finish(CLOSE_NORMAL, "the VM's console closed"),
            error: (_s, err) => finish(CLOSE_INTERNAL, `the VM's console failed: ${err.message}`),
          },
        }).then(
          (socket) => {
            if (closed) return void socket.end();
            vnc = socket;
            log.info(`console of VM ${vmId} opened by ${username} (${host}:${port})`);
            if (flushToVnc()) browser.resume();
          },
          (err: Error) => {
            log.warn(`console of VM ${vmId}: cannot reach ${host}:${port}: ${err.message}`);
            finish(CLOSE_INTERNAL, `cannot reach the VM's console at ${host}:${port}`);
          },
        );
      }

      const handlers: ConsoleSocketHandlers = {
        open(browser) {
          ws = browser;
          live.set(handlers, { target, end: (reason) => finish(CLOSE_NORMAL, reason) });
          // Nothing to send the browser's bytes to until VNC answers.
          browser.pause();
          connect(browser);
        },
        message(browser, message) {
          if (closed) return;
          if (typeof message === "string") return finish(CLOSE_UNSUPPORTED, "RFB travels in binary frames");
          toVnc.push(Uint8Array.from(message));
          toVncBytes += message.length;
          if (toVncBytes > MAX_TO_VNC) return finish(CLOSE_TOO_BIG, "too much input waiting for the VM's console");
          if (!flushToVnc()) browser.pause();
        },
        drain() {
          // The next read pauses again if the browser is still behind.
          if (vnc && !closed) vnc.resume();
        },
        close() {
          if (!closed) log.info(`console of VM ${vmId} closed by the browser`);
          closed = true;
          live.delete(handlers);
          vnc?.end();
        },
      };
      return handlers;
    },
  };
}
