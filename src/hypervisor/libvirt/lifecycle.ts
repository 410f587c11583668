// Define, start, stop, reboot, pause, resume, delete. Every operation holds the VM's lock, reads
// the state first (so an illegal transition gets a clear invalid_state on every driver), acts,
// and answers with the status libvirt reports afterwards.

import { mkdir } from "node:fs/promises";
import { agentSocketPath } from "../../agent/socket-path.ts";
import { HypervisorError } from "../errors.ts";
import { generateMac, specsEqual } from "../defaults.ts";
import type { DiskFormat, DiskSpec, VmSpec, VmState, VmStatus } from "../types.ts";
import { cloudInitDrive, cloudInitIsoName, withNodeCdroms, withoutNodeCdroms, writeCloudInitIso } from "../storage/index.ts";
import { validateVmId, validateVmSpec } from "../validation.ts";
import { buildDomainXml } from "./domain-xml/index.ts";
import { fetchStatus, invalidState, vmCall, type LibvirtContext } from "./context.ts";
import { deleteImages, removeNodeFile, resolveDisk } from "./disks.ts";
import { poolDirs } from "./pools.ts";
import { vmStateOf } from "./state-map.ts";

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
): Promise<{ disks: DiskSpec[]; formats: Record<string, DiskFormat> }> {
  const pools = await poolDirs(ctx);
  const disks: DiskSpec[] = [];
  const formats: Record<string, DiskFormat> = {};
  for (const [i, disk] of spec.disks.entries()) {
    const r = await resolveDisk(ctx, id, disk, pools, `spec.disks[${i}]`);
    if (r.createdPath) created.push(r.createdPath);
    disks.push(r.disk);
    formats[disk.id] = r.format;
  }
  let iso: string | undefined;
  if (spec.cloudInit) {
    iso = await writeCloudInitIso(ctx.settings.storagePath, { id, name: spec.name }, spec.cloudInit);
    created.push(iso);
  }
  const all = withNodeCdroms(disks, iso);
  for (const d of all) if (d.device === "cdrom") formats[d.id] = "raw";
  return { disks: all, formats };
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
      const { disks, formats } = await materialize(ctx, id, spec, created);
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

type Step = { allowed: VmState[]; hint: (s: VmState) => string; op: "start" | "destroy" | "reboot" | "suspend" | "resume" };

async function transition(ctx: LibvirtContext, id: string, step: Step): Promise<VmStatus> {
  validateVmId(id);
  return ctx.locks.run(id, async () => {
    const state = await currentState(ctx, id);
    if (!step.allowed.includes(state)) throw invalidState(id, state, step.hint(state));
    // /run may have been wiped since the domain was defined: libvirt binds the socket there.
    if (step.op === "start") await ensureAgentSocketDir(ctx);
    await vmCall(ctx, id, step.op, id);
    if (step.op === "start") ctx.startedAt.set(id, new Date());
    if (step.op === "destroy") ctx.startedAt.delete(id);
    return fetchStatus(ctx, id);
  });
}

const notRunning = (s: VmState) => (s === "paused" ? "resume it first" : "start it first");

export const startVm = (ctx: LibvirtContext, id: string) =>
  transition(ctx, id, { op: "start", allowed: ["stopped", "crashed"], hint: (s) => (s === "paused" ? "resume it instead" : "it is already started") });
export const forceStopVm = (ctx: LibvirtContext, id: string) =>
  transition(ctx, id, {
    op: "destroy",
    allowed: ["running", "paused", "shutting_down", "crashed", "suspended", "migrating"],
    hint: () => "it is already stopped",
  });
export const rebootVm = (ctx: LibvirtContext, id: string) => transition(ctx, id, { op: "reboot", allowed: ["running"], hint: notRunning });
export const pauseVm = (ctx: LibvirtContext, id: string) =>
  transition(ctx, id, { op: "suspend", allowed: ["running"], hint: (s) => (s === "paused" ? "it is already paused" : "only a running vm can be paused") });
export const resumeVm = (ctx: LibvirtContext, id: string) =>
  transition(ctx, id, { op: "resume", allowed: ["paused"], hint: (s) => (s === "running" ? "it is not paused" : "only a paused vm can be resumed") });

/**
 * ACPI shutdown, then wait without holding the VM's lock (so a ForceStopVM can still get in)
 * and without blocking anything: the state is re-read every stopPollMs on a call Worker.
 */
export async function stopVm(ctx: LibvirtContext, id: string, timeoutMs: number): Promise<VmStatus> {
  validateVmId(id);
  await ctx.locks.run(id, async () => {
    const state = await currentState(ctx, id);
    if (state !== "running" && state !== "shutting_down") {
      throw invalidState(id, state, state === "paused" ? "resume it first or force stop it" : "it is not running");
    }
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
    if (status.state !== "stopped" && status.state !== "crashed") {
      if (!opts.force) throw invalidState(id, status.state, "stop it first, or delete it with force (CLI: --force)");
      await vmCall(ctx, id, "destroy", id).catch((err) => {
        // It may have stopped by itself in between; anything else is a real failure.
        if (!(err instanceof HypervisorError && err.kind === "invalid_state")) throw err;
      });
    }
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
