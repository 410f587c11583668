// The <disk> element that attaches a pool's volume to a guest (GetVolumeAttachInfo): a file
// (dir, netfs), a block device (iSCSI LUN, logical volume) or an RBD image over the network
// with its Ceph monitors and secret. Pure, so both backends answer the same XML.

import type { DiskFormat, HostPort } from "../../types.ts";
import { el, serializeXml } from "./xml-tree.ts";

export type VolumeDiskSource =
  | { kind: "file"; path: string }
  | { kind: "block"; path: string }
  | { kind: "rbd"; image: string; monitors: readonly HostPort[]; auth?: { username: string; secretUuid: string } };

export interface VolumeDiskOptions {
  source: VolumeDiskSource;
  format: DiskFormat;
  /** Guest device name, e.g. vdb. */
  target: string;
}

export function buildVolumeDiskXml(o: VolumeDiskOptions): string {
  const s = o.source;
  const type = s.kind === "rbd" ? "network" : s.kind;
  const source =
    s.kind === "file"
      ? el("source", { file: s.path })
      : s.kind === "block"
        ? el("source", { dev: s.path })
        : el(
            "source",
            { protocol: "rbd", name: s.image },
            s.monitors.map((m) => el("host", { name: m.host, port: m.port })),
          );
  return serializeXml(
    el("disk", { type, device: "disk" }, [
      el("driver", { name: "qemu", type: o.format, cache: s.kind === "rbd" ? "writeback" : "none", discard: "unmap" }),
      s.kind === "rbd" && s.auth && el("auth", { username: s.auth.username }, [el("secret", { type: "ceph", uuid: s.auth.secretUuid })]),
      source,
      el("target", { dev: o.target, bus: "virtio" }),
    ]),
  );
}
