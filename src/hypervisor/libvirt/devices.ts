// Hot-plug: disks and NICs attached to and detached from a VM, live and persistent while it
// runs (VIR_DOMAIN_AFFECT_LIVE|CONFIG), persistent only while it is stopped.

import { HypervisorError } from "../errors.ts";
import { generateMac } from "../defaults.ts";
import { CLOUD_INIT_CDROM_ID, type DiskSpec, type NicSpec, type VmState, type VmStatus } from "../types.ts";
import { validateDiskSpec, validateNicSpec, validateVmId } from "../validation.ts";
import {
  assignDiskTargets,
  buildDiskDeviceXml,
  buildMetadataXml,
  buildNicDeviceXml,
  diskAlias,
  METADATA_NS,
  METADATA_PREFIX,
  nicAlias,
  parseDomainDefXml,
} from "./domain-xml/index.ts";
import { emit, fetchStatus, invalidState, vmCall, type LibvirtContext } from "./context.ts";
import { deleteImages, probeFormat, resolveDisk } from "./disks.ts";
import { poolDirs } from "./pools.ts";
import { AFFECT } from "./ffi/flags.ts";
import { hotplugBus } from "../hotplug-bus.ts";

export function flagsFor(id: string, state: VmState): number {
  if (state === "running") return AFFECT.LIVE | AFFECT.CONFIG;
  if (state === "stopped") return AFFECT.CONFIG;
  throw invalidState(id, state, "devices can be changed while it runs or is stopped");
}

/**
 * Resolves when libvirt reports the device gone, or after ms (the guest may never let go).
 * Registered before the detach call (the event can beat its answer); `cancel` unregisters it
 * when the detach itself fails, so no waiter outlives its call.
 */
function deviceRemoval(ctx: LibvirtContext, id: string, alias: string, ms: number): { wait: () => Promise<boolean>; cancel: () => void } {
  const key = `${id}/${alias}`;
  let done!: (removed: boolean) => void;
  const removed = new Promise<boolean>((resolve) => (done = resolve));
  const waiters = ctx.removals.get(key) ?? new Set();
  const hit = () => done(true);
  waiters.add(hit);
  ctx.removals.set(key, waiters);
  const cancel = () => {
    waiters.delete(hit);
    if (waiters.size === 0 && ctx.removals.get(key) === waiters) ctx.removals.delete(key);
  };
  return {
    wait: async () => {
      const timer = setTimeout(() => done(false), ms);
      const ok = await removed;
      clearTimeout(timer);
      cancel();
      return ok;
    },
    cancel,
  };
}

/** Runs the detach call; a failure unregisters the removal waiter before it is rethrown. */
async function detaching(removal: { cancel: () => void } | undefined, detach: () => Promise<unknown>): Promise<void> {
  try {
    await detach();
  } catch (err) {
    removal?.cancel();
    throw err;
  }
}

/**
 * Guest device names the running domain still uses: a disk unplugged from the definition stays
 * in the live domain until the guest releases it (never, with no OS), and keeps its name.
 */
async function liveTargets(ctx: LibvirtContext, id: string, state: VmState): Promise<string[]> {
  if (state !== "running") return [];
  const raw = await vmCall(ctx, id, "domain", id, 0);
  return parseDomainDefXml(raw.xml).devices.disks.map((d) => d.target.dev);
}

export async function attachDisk(ctx: LibvirtContext, id: string, disk: DiskSpec): Promise<VmStatus> {
  validateVmId(id);
  validateDiskSpec(disk);
  return ctx.locks.run(id, async () => {
    const status = await fetchStatus(ctx, id);
    const flags = flagsFor(id, status.state);
    if (status.spec.disks.some((d) => d.id === disk.id))
      throw new HypervisorError("already_exists", `vm ${id} already has a disk with id ${disk.id}`, "disk.id");
    if (disk.id === CLOUD_INIT_CDROM_ID)
      throw new HypervisorError("invalid_argument", `disk.id: "${CLOUD_INIT_CDROM_ID}" is reserved for the node's cloud-init CD-ROM`, "disk.id");
    const taken = [...status.spec.disks.map((d) => d.target).filter((t): t is string => t !== undefined), ...(await liveTargets(ctx, id, status.state))];
    // SATA and IDE have no hot-plug: a running VM gets the disk on virtio (hotplug-bus.ts).
    const live = { ...disk, bus: hotplugBus(disk.bus, status.state === "running"), target: undefined } as DiskSpec;
    const [targeted] = assignDiskTargets([live], taken, ctx.host.machine);
    const resolved = await resolveDisk(ctx, id, targeted ?? disk, await poolDirs(ctx), "disk");
    try {
      // The request facts (size, pool, volume) live in our metadata: keep it in step with the device.
      const spec = { ...status.spec, disks: [...status.spec.disks, resolved.disk] };
      const metadata = { xml: buildMetadataXml(spec, status.createdAt ?? new Date(), ctx.host.machine), prefix: METADATA_PREFIX, ns: METADATA_NS };
      await ctx.pool.call("attach", id, buildDiskDeviceXml(resolved.disk, resolved.format, undefined, resolved.network), flags, metadata);
    } catch (err) {
      if (resolved.createdPath) await deleteImages(ctx, [resolved.createdPath]).catch(() => {});
      throw err;
    }
    const busNote = live.bus === disk.bus ? "" : ` on ${live.bus} (${disk.bus} has no hot-plug)`;
    emit(ctx, {
      type: "disk_attached",
      vmId: id,
      vmName: status.name,
      message: `disk ${disk.id} attached to vm ${id} as ${resolved.disk.target}${busNote}`,
      details: { disk: disk.id, target: resolved.disk.target ?? "" },
    });
    return fetchStatus(ctx, id);
  });
}

export async function detachDisk(ctx: LibvirtContext, id: string, diskId: string): Promise<VmStatus> {
  validateVmId(id);
  return ctx.locks.run(id, async () => {
    const status = await fetchStatus(ctx, id);
    const flags = flagsFor(id, status.state);
    const disk = status.spec.disks.find((d) => d.id === diskId);
    if (!disk) throw new HypervisorError("not_found", `vm ${id} has no disk with id ${diskId}`);
    // libvirt finds the disk to detach by its alias; a device or RBD image is never probed.
    const format = disk.resolvedPath?.startsWith("/") && !disk.resolvedPath.startsWith("/dev/") ? await probeFormat(disk.resolvedPath) : "raw";
    const removal = flags & AFFECT.LIVE ? deviceRemoval(ctx, id, diskAlias(diskId), ctx.settings.detachWaitMs) : undefined;
    await detaching(removal, () => ctx.pool.call("detach", id, buildDiskDeviceXml(disk, format), flags));
    const released = removal ? await removal.wait() : true;
    emit(ctx, {
      type: "disk_detached",
      vmId: id,
      vmName: status.name,
      message: released
        ? `disk ${diskId} detached from vm ${id}`
        : `disk ${diskId} removed from vm ${id}'s definition; the guest has not released the device yet`,
      details: { disk: diskId },
    });
    return fetchStatus(ctx, id);
  });
}

export async function attachNic(ctx: LibvirtContext, id: string, nic: NicSpec): Promise<VmStatus> {
  validateVmId(id);
  validateNicSpec(nic);
  return ctx.locks.run(id, async () => {
    const status = await fetchStatus(ctx, id);
    const flags = flagsFor(id, status.state);
    if (status.spec.nics.some((n) => n.id === nic.id)) throw new HypervisorError("already_exists", `vm ${id} already has a nic with id ${nic.id}`, "nic.id");
    const withMac: NicSpec = nic.mac ? nic : { ...nic, mac: generateMac() };
    await ctx.pool.call("attach", id, buildNicDeviceXml(withMac), flags);
    emit(ctx, {
      type: "nic_attached",
      vmId: id,
      vmName: status.name,
      message: `nic ${nic.id} (${withMac.mac}) attached to vm ${id}`,
      details: { nic: nic.id, mac: withMac.mac ?? "" },
    });
    return fetchStatus(ctx, id);
  });
}

export async function detachNic(ctx: LibvirtContext, id: string, nicId: string): Promise<VmStatus> {
  validateVmId(id);
  return ctx.locks.run(id, async () => {
    const status = await fetchStatus(ctx, id);
    const flags = flagsFor(id, status.state);
    const nic = status.spec.nics.find((n) => n.id === nicId);
    if (!nic) throw new HypervisorError("not_found", `vm ${id} has no nic with id ${nicId}`);
    const removal = flags & AFFECT.LIVE ? deviceRemoval(ctx, id, nicAlias(nicId), ctx.settings.detachWaitMs) : undefined;
    await detaching(removal, () => ctx.pool.call("detach", id, buildNicDeviceXml(nic), flags));
    const released = removal ? await removal.wait() : true;
    emit(ctx, {
      type: "nic_detached",
      vmId: id,
      vmName: status.name,
      message: released ? `nic ${nicId} detached from vm ${id}` : `nic ${nicId} removed from vm ${id}'s definition; the guest has not released the device yet`,
      details: { nic: nicId },
    });
    return fetchStatus(ctx, id);
  });
}
