// Snapshots: libvirt keeps them (with their parent links) in its own metadata, so listing reads
// each snapshot's XML; the backend adds snapshot events, which libvirt does not send.

import { HypervisorError } from "../errors.ts";
import { missingObject } from "./ffi/error-codes.ts";
import type { Snapshot, SnapshotOptions, VmStatus } from "../types.ts";
import { validateSnapshotName, validateVmId } from "../validation.ts";
import { buildSnapshotXml, parseSnapshotXml } from "./domain-xml/index.ts";
import { emit, fetchStatus, vmCall, type LibvirtContext } from "./context.ts";
import type { RawSnapshot } from "./ffi/snapshot.ts";

function toSnapshot(vmId: string, raw: RawSnapshot): Snapshot {
  const p = parseSnapshotXml(raw.xml);
  const s: Snapshot = {
    vmId,
    name: p.name,
    description: p.description,
    createdAt: p.createdAt,
    vmState: p.state,
    current: raw.current,
    hasMemory: p.hasMemory,
  };
  if (p.parent !== undefined) s.parent = p.parent;
  return s;
}

const snapshotNotFound = (id: string, name: string) => new HypervisorError("not_found", `vm ${id} has no snapshot named ${JSON.stringify(name)}`);

/** Maps libvirt's "no such snapshot" (by its code) to a not_found that names the VM and the snapshot. */
async function onSnapshot<T>(id: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (missingObject(err) === "snapshot") throw snapshotNotFound(id, name);
    throw err;
  }
}

export async function listSnapshots(ctx: LibvirtContext, id: string): Promise<Snapshot[]> {
  validateVmId(id);
  const raws = await vmCall(ctx, id, "snapshots", id);
  return raws.map((r) => toSnapshot(id, r)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.name.localeCompare(b.name));
}

export async function createSnapshot(ctx: LibvirtContext, id: string, opts: SnapshotOptions): Promise<Snapshot> {
  validateVmId(id);
  const name = opts.name ? validateSnapshotName(opts.name) : `snap-${new Date().toISOString().replace(/[-:.]/g, "").replace("T", "-").slice(0, 15)}`;
  return ctx.locks.run(id, async () => {
    const existing = await vmCall(ctx, id, "snapshots", id);
    if (existing.some((s) => s.name === name)) throw new HypervisorError("already_exists", `vm ${id} already has a snapshot named ${JSON.stringify(name)}`);
    const xml = buildSnapshotXml({ name, ...(opts.description ? { description: opts.description } : {}), includeMemory: opts.includeMemory });
    const raw = await vmCall(ctx, id, "snapshotCreate", id, xml, 0, opts.quiesce);
    const snap: Snapshot = { ...toSnapshot(id, raw), ...(opts.quiesce ? { quiesced: raw.quiesced } : {}) };
    if (raw.quiesceError !== undefined) ctx.log.warn(`snapshot ${name} of vm ${id} is not quiesced (crash-consistent): ${raw.quiesceError}`);
    const how = !opts.quiesce ? "" : raw.quiesced ? ", filesystems quiesced" : ", not quiesced: no guest agent answered";
    emit(ctx, {
      type: "snapshot_created",
      vmId: id,
      message: `snapshot ${name} of vm ${id} created${how}`,
      details: { snapshot: name, ...(opts.quiesce ? { quiesced: String(raw.quiesced) } : {}) },
    });
    return snap;
  });
}

export async function revertSnapshot(ctx: LibvirtContext, id: string, name: string): Promise<VmStatus> {
  validateVmId(id);
  return ctx.locks.run(id, () =>
    onSnapshot(id, name, async () => {
      await vmCall(ctx, id, "snapshotRevert", id, name);
      const status = await fetchStatus(ctx, id);
      if (status.state === "running") ctx.startedAt.set(id, new Date());
      else ctx.startedAt.delete(id);
      emit(ctx, {
        type: "snapshot_reverted",
        vmId: id,
        vmName: status.name,
        state: status.state,
        message: `vm ${id} reverted to snapshot ${name}`,
        details: { snapshot: name },
      });
      return status;
    }),
  );
}

export async function deleteSnapshot(ctx: LibvirtContext, id: string, name: string): Promise<void> {
  validateVmId(id);
  await ctx.locks.run(id, () =>
    onSnapshot(id, name, async () => {
      await vmCall(ctx, id, "snapshotDelete", id, name);
      emit(ctx, { type: "snapshot_deleted", vmId: id, message: `snapshot ${name} of vm ${id} deleted`, details: { snapshot: name } });
    }),
  );
}
