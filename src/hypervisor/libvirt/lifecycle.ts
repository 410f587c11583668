// Define, start, stop, reboot, pause, resume, delete. Every operation holds the VM's lock, reads
// the state first and asks the transition table (../transitions.ts, shared with the mock) whether
// it may act, so an illegal transition gets the same invalid_state on every driver; then it acts
// and answers with the status libvirt reports afterwards.

import { mkdir } from "node:fs/promises";
import { agentSocketPath } from "../../agent/socket-path.ts";
import { HypervisorError } from "../errors.ts";
import { generateMac, specsEqual } from "../defaults.ts";
import type { DiskFormat, DiskSpec, VmSpec, VmState, VmStatus } from "../types.ts";
import { cloudInitDrive, cloudInitIsoName, withNodeCdroms, withoutNodeCdroms, writeCloudInitIso } from "../storage/index.ts";
import { validateVmId, validateVmSpec } from "../validation.ts";
import { buildDomainXml } from "./domain-xml/index.ts";
import type { NetworkDiskSourceDef } from "./domain-xml/model.ts";
import { fetchStatus, vmCall, type LibvirtContext } from "./context.ts";
import { deleteImages, removeNodeFile, resolveDisk } from "./disks.ts";
import { poolDirs } from "./pools.ts";
import { vmStateOf } from "./state-map.ts";
import { checkDelete, checkTransition, type PowerOp } from "../transitions.ts";

async function currentState(ctx: LibvirtContext, id: string): Promise<VmState> {
  const st = await vmCall(ctx, id, "state", id);
  return vmStateOf(st.state, st.reason);
}

/**
 * The existing VM's spec as the request would have to look to be "the same request": the
 * node's own CD-ROMs left out, what the backend filled in (MACs, console listen) taken over.
 */
function requestView(ctx: LibvirtContext, requested: VmSpec, existing: VmSpec): { requested: VmSpec; existing: VmSpec } {
  const console = { ...requested.console };
  if (console.listen === undefined && existing.console.listen === ctx.settings.consoleListen) console.listen = existing.console.listen;
  const existingView: VmSpec = { ...existing, disks: withoutNodeCdroms(existing.disks, requested.disks) };
  // Definitions that do not keep cloud-init data (older metadata): the drive stands for it.
  if (existing.cloudInit === undefined && requested.cloudInit !== undefined && cloudInitDrive(existing.disks)) existingView.cloudInit = requested.cloudInit;
  return {
    existing: existingView,
    requested: {
      ...requested,
      console,
      nics: requested.nics.map((n) => (n.mac ? n : { ...n, mac: existing.nics.find((e) => e.id === n.id)?.mac })) as VmSpec["nics"],
    },
  };
}

/** Places every disk (creating new images), adds the node's CD-ROMs; images made are in created. */
async function materialize(
  ctx: LibvirtContext,
  id: string,
  spec: VmSpec,
  created: string[],
): Promise<{ disks: DiskSpec[]; formats: Record<string, DiskFormat>; networks: Record<string, NetworkDiskSourceDef> }> {
  const pools = await poolDirs(ctx);
  const disks: DiskSpec[] = [];
  const formats: Record<string, DiskFormat> = {};
  // Ceph volumes: their monitors and secret (pool-volume-disks.ts).
  const networks: Record<string, NetworkDiskSourceDef> = {};
  for (const [i, disk] of spec.disks.entries()) {
    const r = await resolveDisk(ctx, id, disk, pools, `spec.disks[${i}]`);
    if (r.createdPath) created.push(r.createdPath);
    disks.push(r.disk);
    formats[disk.id] = r.format;
    if (r.network) networks[disk.id] = r.network;
  }
  let iso: string | undefined;
  if (spec.cloudInit) {
    iso = await writeCloudInitIso(ctx.settings.storagePath, { id, name: spec.name }, spec.cloudInit);
    created.push(iso);
  }
  const all = withNodeCdroms(disks, iso);
  for (const d of all) if (d.device === "cdrom") formats[d.id] = "raw";
  return { disks: all, formats, networks };
}

export async function createVm(ctx: LibvirtContext, id: string, spec: VmSpec): Promise<{ vm: VmStatus; created: boolean }> {
  validateVmId(id);
  validateVmSpec(spec);
  return ctx.locks.run(id, async () => {
    if (await ctx.pool.call("exists", id)) {
      const existing = await fetchStatus(ctx, id);
      const view = requestView(ctx, spec, existing.spec);
      if (specsEqual(view.requested, view.existing)) return { vm: existing, created: false };
      throw new HypervisorError("already_exists", `vm ${id} already exists with a different spec; delete it first or use another id`);
    }
    const holder = await ctx.pool.call("uuidByName", spec.name);
    if (holder !== null) {
      throw new HypervisorError("already_exists", `a vm named ${JSON.stringify(spec.name)} already exists (id ${holder})`, "spec.name");
    }
    // Checked before any image is made.
    withNodeCdroms(spec.disks);
    const created: string[] = [];
    try {
      const { disks, formats, networks } = await materialize(ctx, id, spec, created);
      const nics = spec.nics.map((n) => (n.mac ? n : { ...n, mac: generateMac() }));
      const { host } = ctx;
      const xml = buildDomainXml({
        id,
        spec: { ...spec, disks, nics },
        domainType: host.domainType,
        ...(host.emulator !== undefined ? { emulator: host.emulator } : {}),
        ...(host.machine !== undefined ? { machine: host.machine } : {}),
        ...(spec.firmware === "uefi" ? { uefi: uefiFor(ctx, id) } : {}),
        consoleListen: ctx.settings.consoleListen,
        createdAt: new Date(),
        diskFormats: formats,
        diskNetworks: networks,
        cpuDisabledFeatures: ctx.settings.cpuDisabledFeatures,
        ...(ctx.settings.agentSocketDir !== undefined ? { agentSocketPath: agentSocketPath(ctx.settings.agentSocketDir, id) } : {}),
      });
      await ensureAgentSocketDir(ctx);
      await ctx.pool.call("define", xml);
      ctx.known.set(id, "stopped");
    } catch (err) {
      await cleanUp(ctx, id, created);
      throw err;
    }
    return { vm: await fetchStatus(ctx, id), created: true };
  });
}

/** After a failed create: the images it made, and its cloud-init ISO. */
async function cleanUp(ctx: LibvirtContext, id: string, created: string[]): Promise<void> {
  const iso = created.find((p) => p.endsWith(`/${cloudInitIsoName(id)}`));
  try {
    await deleteImages(
      ctx,
      created.filter((p) => p !== iso),
    );
  } catch (e) {
    ctx.log.warn(`could not remove images of failed vm ${id}`, e);
  }
  if (iso !== undefined) await removeNodeFile(ctx, iso);
}

/** The agent socket folder exists before every define and start (contract 4.1). */
async function ensureAgentSocketDir(ctx: LibvirtContext): Promise<void> {
  const dir = ctx.settings.agentSocketDir;
  if (dir === undefined) return;
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new HypervisorError("unavailable", `cannot create the guest agent socket folder ${dir} (agent.socket_dir): ${(err as Error).message}`);
  }
}

function uefiFor(ctx: LibvirtContext, id: string) {
  const loader = ctx.host.uefiLoader;
  if (loader === undefined) {
    throw new HypervisorError(
      "unsupported",
      "spec.firmware is uefi but libvirt reports no UEFI firmware on this host (Debian: apt-get install ovmf)",
      "spec.firmware",
    );
  }
  return { loaderPath: loader, nvramPath: `${ctx.settings.storagePath}/${id}_VARS.fd` };
}

/** Applies one power operation under the VM's lock; the transition table decides whether it may. */
async function transition(ctx: LibvirtContext, id: string, op: Exclude<PowerOp, "stop">): Promise<VmStatus> {
  validateVmId(id);
  return ctx.locks.run(id, async () => {
    const state = await currentState(ctx, id);
    checkTransition(id, op, state);
    await act(ctx, id, op, state);
    return fetchStatus(ctx, id);
  });
}

async function act(ctx: LibvirtContext, id: string, op: Exclude<PowerOp, "stop">, from: VmState): Promise<void> {
  switch (op) {
    case "start":
      // /run may have been wiped since the domain was defined: libvirt binds the socket there.
      await ensureAgentSocketDir(ctx);
      if (from === "suspended") return void (await vmCall(ctx, id, "wake", id));
      // A crashed guest's process is kept (on_crash=preserve): it goes before the new boot.
      if (from === "crashed") await destroyIfActive(ctx, id);
      await vmCall(ctx, id, "start", id);
      ctx.startedAt.set(id, new Date());
      return;
    case "force_stop":
      await vmCall(ctx, id, "destroy", id);
      ctx.startedAt.delete(id);
      return;
    case "reboot":
      return vmCall(ctx, id, "reboot", id);
    case "pause":
      return vmCall(ctx, id, "suspend", id);
    case "resume":
      return vmCall(ctx, id, "resume", id);
  }
}

/** virDomainDestroy, except that a domain which stopped by itself in between is fine. */
async function destroyIfActive(ctx: LibvirtContext, id: string): Promise<void> {
  await vmCall(ctx, id, "destroy", id).catch((err) => {
    if (!(err instanceof HypervisorError && err.kind === "invalid_state")) throw err;
  });
}

export const startVm = (ctx: LibvirtContext, id: string) => transition(ctx, id, "start");
export const forceStopVm = (ctx: LibvirtContext, id: string) => transition(ctx, id, "force_stop");
export const rebootVm = (ctx: LibvirtContext, id: string) => transition(ctx, id, "reboot");
export const pauseVm = (ctx: LibvirtContext, id: string) => transition(ctx, id, "pause");
export const resumeVm = (ctx: LibvirtContext, id: string) => transition(ctx, id, "resume");

/**
 * ACPI shutdown, then wait without holding the VM's lock (so a ForceStopVM can still get in)
 * and without blocking anything: the state is re-read every stopPollMs on a call Worker.
 */
export async function stopVm(ctx: LibvirtContext, id: string, timeoutMs: number): Promise<VmStatus> {
  validateVmId(id);
  await ctx.locks.run(id, async () => {
    checkTransition(id, "stop", await currentState(ctx, id));
    await vmCall(ctx, id, "shutdown", id);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await currentState(ctx, id);
    if (state === "stopped" || state === "crashed") break;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new HypervisorError(
        "timeout",
        `vm ${id} is still ${state} ${Math.round(timeoutMs / 1000)} s after the ACPI shutdown request: the guest ignores ACPI ` +
          `(no OS booted, or no ACPI daemon). Force stop it (ForceStopVM) or retry with a longer timeout`,
      );
    }
    await Bun.sleep(Math.min(ctx.settings.stopPollMs, left));
  }
  ctx.startedAt.delete(id);
  return ctx.locks.run(id, () => fetchStatus(ctx, id));
}

export async function deleteVm(ctx: LibvirtContext, id: string, opts: { deleteDisks: boolean; force: boolean }): Promise<{ deletedDisks: string[] }> {
  validateVmId(id);
  return ctx.locks.run(id, async () => {
    const status = await fetchStatus(ctx, id);
    if (checkDelete(id, status.state, opts.force).forceStopFirst) await destroyIfActive(ctx, id);
    await vmCall(ctx, id, "undefine", id);
    ctx.startedAt.delete(id);
    ctx.cpu.forget(id);
    // The cloud-init ISO is the node's own file, made from the request: it goes with the VM
    // whether or not the disks do (the request's data stays with the caller).
    const iso = cloudInitDrive(status.spec.disks)?.resolvedPath;
    if (iso?.endsWith(`/${cloudInitIsoName(id)}`)) await removeNodeFile(ctx, iso);
    if (!opts.deleteDisks) return { deletedDisks: [] };
    const paths = status.spec.disks.filter((d) => d.device === "disk" && !d.readonly && d.resolvedPath !== undefined).map((d) => d.resolvedPath as string);
    return { deletedDisks: await deleteImages(ctx, paths) };
  });
}

export async function getVm(ctx: LibvirtContext, id: string): Promise<VmStatus> {
  validateVmId(id);
  return fetchStatus(ctx, id);
}
