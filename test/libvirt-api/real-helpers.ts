// Pieces of the real API tier that are not about the daemon: virsh read-outs and a migration
// peer that never answers.

import { createServer, type Socket } from "node:net";
import { virsh } from "../hypervisor/libvirt/real/helpers.ts";

/** `virsh snapshot-list --parent`: name -> parent ("" for a root). */
export function snapshotParents(id: string): Record<string, string> {
  const out: Record<string, string> = {};
  // Name, creation time (date, time, zone), state, and the parent when there is one.
  for (const line of virsh("snapshot-list", id, "--parent").split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols[0]) out[cols[0]] = cols[5] ?? "";
  }
  return out;
}

/** `virsh domblklist`: target -> source. */
export function blockDevices(id: string, inactive = false): Record<string, string> {
  const lines = virsh("domblklist", id, ...(inactive ? ["--inactive"] : [])).split("\n");
  return Object.fromEntries(
    lines
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c.length >= 2)
      .map((c) => [c[0], c[1]]),
  );
}

/** `virsh domiflist`: the MAC addresses. */
export function interfaceMacs(id: string, inactive = false): string[] {
  const text = virsh("domiflist", id, ...(inactive ? ["--inactive"] : []));
  return [...text.matchAll(/([0-9a-f]{2}(?::[0-9a-f]{2}){5})/g)].map((m) => m[1] as string);
}

/** The VNC port from `virsh vncdisplay` (":0" is 5900). */
export function vncPort(id: string): number {
  const display = virsh("vncdisplay", id);
  return 5900 + Number.parseInt(display.split(":").pop() ?? "x", 10);
}

/** `virsh dominfo` fields by name ("CPU(s)", "Max memory", ...). */
export function dominfo(id: string): Record<string, string> {
  return Object.fromEntries(
    virsh("dominfo", id)
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf(":")).trim(), l.slice(l.indexOf(":") + 1).trim()]),
  );
}

/**
 * A TCP listener that takes libvirt's migration connection and says nothing, then hangs up after
 * holdMs: a migration that stays in progress that long, then fails, without a second host.
 */
export async function silentPeer(holdMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    setTimeout(() => s.destroy(), holdMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
