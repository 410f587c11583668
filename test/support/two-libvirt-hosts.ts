// Two libvirt hosts on this machine (scripts/two-libvirt-hosts.sh) and one compiled daemon per
// host, for the real tier's migration tests. Each daemon runs in its host's mount and UTS
// namespaces (its libvirt, its /run/libvirt/qemu pid files, its private storage folder, its
// hostname) but in the root network namespace, so the test reaches it on loopback; libvirt's
// peer-to-peer migration runs between the two libvirtds over their veth pair.

import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { join } from "node:path";
import { NodeDaemonService, PowerState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { type BinaryDaemon, startBinaryDaemon } from "./binary-daemon.ts";

const SCRIPT = join(import.meta.dir, "../../scripts/two-libvirt-hosts.sh");
export const HOSTS_BASE = process.env.LQ14C_BASE ?? "/tmp/lq14c-hosts";
/** The same path on both hosts, with different files behind it (a bind mount per host). */
export const PRIVATE_DIR = `${HOSTS_BASE}/private`;
/** Outside the private folders: what both hosts reach (the qemu-nbd socket). */
export const SHARED_DIR = `${HOSTS_BASE}/shared`;

export type HostName = "A" | "B";
export const HOST_ADDRESS: Record<HostName, string> = { A: "10.77.14.1", B: "10.77.14.2" };
export const HOST_HOSTNAME: Record<HostName, string> = { A: "lq14c-a", B: "lq14c-b" };
/** The URI the source's libvirtd dials (peer to peer, over the veth). */
export const migrationUri = (h: HostName) => `qemu+tcp://${HOST_ADDRESS[h]}/system`;

function script(args: string[], timeoutMs: number): string {
  const r = Bun.spawnSync(["bash", SCRIPT, ...args], { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  if (r.exitCode !== 0) throw new Error(`two-libvirt-hosts.sh ${args.join(" ")} failed (${r.exitCode}):\n${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

export const hostsUp = () => script(["up"], 180_000);
export const hostsDown = () => script(["down"], 120_000);
export const nbdStart = (image: string) => script(["nbd-start", image], 30_000).trim();
export const nbdStop = () => script(["nbd-stop"], 30_000);

/** virsh on host h, from this namespace, over the host's own libvirt socket. */
export function hostVirsh(h: HostName, ...args: string[]): string {
  const uri = `qemu:///system?socket=${HOSTS_BASE}/${h}/run/libvirt/libvirt-sock`;
  const r = Bun.spawnSync(["virsh", "-q", "-c", uri, ...args], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  if (r.exitCode !== 0) throw new Error(`virsh on host ${h} ${args.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

/** "running", "shut off", or "" when host h has no such domain. */
export function hostDomstate(h: HostName, id: string): string {
  try {
    return hostVirsh(h, "domstate", id);
  } catch (err) {
    if (/failed to get domain|Domain not found/.test(String(err))) return "";
    throw err;
  }
}

/** Polls until check() is true; fails naming what it waited for. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await Bun.sleep(50);
  }
}

/** `virsh domjobinfo` as key -> value ("Job type", "Time elapsed", "Total downtime", ...). */
export function jobInfo(h: HostName, id: string, completed = false): Record<string, string> {
  const text = hostVirsh(h, "domjobinfo", id, ...(completed ? ["--completed"] : []));
  return Object.fromEntries(text.split("\n").map((l) => [l.slice(0, l.indexOf(":")).trim(), l.slice(l.indexOf(":") + 1).trim()]));
}

/** Every domain of host h, by UUID -> state ("running", "shut off"). */
export function virshDomains(h: HostName): Record<string, string> {
  const out: Record<string, string> = {};
  for (const uuid of hostVirsh(h, "list", "--all", "--uuid").split("\n").filter(Boolean)) out[uuid] = hostVirsh(h, "domstate", uuid);
  return out;
}

export const POWER_BY_VIRSH: Record<string, PowerState> = { running: PowerState.RUNNING, "shut off": PowerState.STOPPED, paused: PowerState.PAUSED };

/** QEMU's own migration status on host h ("active", "cancelling", "cancelled", "completed", ...). */
export function qemuMigrationStatus(h: HostName, id: string): string {
  const reply = JSON.parse(hostVirsh(h, "qemu-monitor-command", id, '{"execute":"query-migrate"}')) as { return?: { status?: string } };
  return reply.return?.status ?? "none";
}

export interface HostDaemon {
  host: HostName;
  daemon: BinaryDaemon;
  grpc: Client<typeof NodeDaemonService>;
}

/** The compiled daemon of host h, on qemu:///system inside the host, storage in its private folder. */
export async function startHostDaemon(h: HostName, env: Record<string, string>): Promise<HostDaemon> {
  const holder = script(["holder", h], 10_000).trim();
  const dir = `${PRIVATE_DIR}/daemon`;
  const daemon = await startBinaryDaemon(
    [],
    {
      LIMIQUANTIX_HYPERVISOR_BACKEND: "libvirt",
      LIMIQUANTIX_HYPERVISOR_LIBVIRT_URI: "qemu:///system",
      LIMIQUANTIX_NODE_STATE_DIR: `${dir}/state`,
      LIMIQUANTIX_HYPERVISOR_STORAGE_PATH: `${dir}/vms`,
      LIMIQUANTIX_AGENT_SOCKET_DIR: `${dir}/agent`,
      LIMIQUANTIX_AGENT_REST_LISTEN_ADDRESS: "off",
      LIMIQUANTIX_HYPERVISOR_CONSOLE_LISTEN: "127.0.0.1",
      ...env,
    },
    // Mount and UTS namespaces only: the daemon stays reachable on this namespace's loopback.
    ["nsenter", "-t", holder, "-m", "-u", `--wd=${PRIVATE_DIR}`, "--"],
  );
  return { host: h, daemon, grpc: createClient(NodeDaemonService, createGrpcTransport({ baseUrl: daemon.baseUrl })) };
}
