// Console ports that a real server listens on (when asked: MockOptions.serveConsoles, on in the
// daemon's --dev): a running mock VM with a VNC console gets a minimal RFB server
// (src/rfb/demo-server.ts) on 127.0.0.1 at its port, so a VNC client or the browser console has
// something to show. Only loopback, whatever address the console announces: the mock's console
// asks for no password.
//
// The server starts when the console is first asked for (getConsole), not when the VM starts:
// a mock with 10,000 running VMs holds no sockets for consoles nobody opens. A port another
// process holds by then (a real QEMU, another daemon's mock) is given up for the next free one,
// as libvirt's autoport skips ports in use.

import { type DemoConsole, listenDemoConsole } from "../../rfb/demo-server.ts";
import { HypervisorError } from "../errors.ts";
import type { PortAllocator } from "./console-ports.ts";

export interface ServedConsolePorts extends PortAllocator {
  /**
   * The port where the console of `port` is served: `port` itself, or a new one when another
   * process holds it. Ports allocated without `serve` (SPICE, or serving off) come back as they are.
   */
  serve(port: number): number;
  /** Closes every console server (the mock is closing). */
  closeAll(): void;
  /** Console servers listening now (tests). */
  readonly serving: number;
}

const BUSY_TRIES = 64;

function inUse(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(e?.message ?? "");
}

export function createServedConsolePorts(inner: PortAllocator, opts: { serve: boolean; host?: string }): ServedConsolePorts {
  const host = opts.host ?? "127.0.0.1";
  /** The desktop name of each port that is to be served. */
  const names = new Map<number, string>();
  const servers = new Map<number, DemoConsole>();

  function release(port: number): void {
    servers.get(port)?.close();
    servers.delete(port);
    names.delete(port);
    inner.release(port);
  }

  return {
    allocate(owner) {
      const port = inner.allocate();
      if (owner && opts.serve) names.set(port, owner.name);
      return port;
    },
    release,
    serve(port) {
      const name = names.get(port);
      if (name === undefined || servers.has(port)) return port;
      let candidate = port;
      const busy: number[] = [];
      try {
        for (let i = 0; i < BUSY_TRIES; i++) {
          try {
            servers.set(candidate, listenDemoConsole({ host, port: candidate, name }));
            if (candidate !== port) {
              names.set(candidate, name);
              release(port);
            }
            return candidate;
          } catch (err) {
            if (!inUse(err)) throw new HypervisorError("unavailable", `the mock console cannot listen on ${host}:${candidate}: ${(err as Error).message}`);
            if (candidate !== port) busy.push(candidate);
            candidate = inner.allocate();
          }
        }
        if (candidate !== port) inner.release(candidate);
        throw new HypervisorError("resource_exhausted", `no free console port: ${BUSY_TRIES} ports from ${port} are in use by other processes`);
      } finally {
        for (const p of busy) inner.release(p);
      }
    },
    get inUse() {
      return inner.inUse;
    },
    get serving() {
      return servers.size;
    },
    closeAll() {
      for (const s of servers.values()) s.close();
      servers.clear();
    },
  };
}
