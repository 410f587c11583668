// ChangeMedia: a CD-ROM's ISO inserted, swapped or ejected with virDomainUpdateDeviceFlags, live
// and persistent while the VM runs, persistent while it is stopped. Our metadata is updated in
// the same call so the VM's spec shows the new medium. The CD-ROM is named by its id; the server
// translates the control plane's device string (sdX) with cdromForDevice first.

import { HypervisorError } from "../errors.ts";
import type { DiskSpec, VmStatus } from "../types.ts";
import { validateVmId } from "../validation.ts";
import { buildDiskDeviceXml, buildMetadataXml, METADATA_NS, METADATA_PREFIX } from "./domain-xml/index.ts";
import { emit, fetchStatus, type LibvirtContext } from "./context.ts";
import { flagsFor } from "./devices.ts";
import { resolveMedium } from "./disks.ts";

export async function changeMedia(ctx: LibvirtContext, id: string, cdromId: string, medium: { path?: string; volume?: string }): Promise<VmStatus> {
  validateVmId(id);
  return ctx.locks.run(id, async () => {
    const status = await fetchStatus(ctx, id);
    const cdrom = status.spec.disks.find((d) => d.id === cdromId && d.device === "cdrom");
    if (!cdrom) {
      const ids = status.spec.disks.filter((d) => d.device === "cdrom").map((d) => d.id);
      throw new HypervisorError("not_found", `vm ${id} has no CD-ROM with id ${cdromId} (its CD-ROMs: ${ids.join(", ") || "none"})`, "cdrom_id");
    }
    const flags = flagsFor(id, status.state);
    const iso = await resolveMedium(ctx, medium);
    const { path: _p, volume: _v, resolvedPath: _r, ...empty } = cdrom;
    const changed: DiskSpec = { ...empty };
    if (iso !== undefined) {
      changed.resolvedPath = iso;
      if (medium.volume !== undefined && medium.volume !== "") changed.volume = medium.volume;
      else changed.path = iso;
    }
    const spec = { ...status.spec, disks: status.spec.disks.map((d) => (d.id === cdromId ? changed : d)) };
    const metadata = { xml: buildMetadataXml(spec, status.createdAt ?? new Date(), ctx.host.machine), prefix: METADATA_PREFIX, ns: METADATA_NS };
    await ctx.pool.call("changeMedia", id, buildDiskDeviceXml(changed, "raw"), flags, metadata);
    emit(ctx, {
      type: "media_changed",
      vmId: id,
      vmName: status.name,
      message: iso === undefined ? `CD-ROM ${cdromId} of vm ${id} ejected` : `CD-ROM ${cdromId} of vm ${id} now holds ${iso}`,
      details: { cdrom: cdromId, path: iso ?? "" },
    });
    return fetchStatus(ctx, id);
  });
}
