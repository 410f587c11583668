// Our element under <metadata>. libvirt keeps foreign-namespace metadata verbatim but may write
// it back with another prefix (virDomainSetMetadata renames the top element to its key and keeps
// the inner prefixes) or a default namespace, so the reader matches on the namespace URI, never on
// the prefix. Inside our element, children without any namespace are accepted too.

import type { LqDiskMeta, LqMetadata } from "./model.ts";
import { attr, child, el, serializeXml, textOf, type XmlElement, type XmlNode } from "./xml-tree.ts";

export const METADATA_NS = "https://limiquantix.io/xmlns/node/v1";
export const METADATA_PREFIX = "lq";

/**
 * In a domain definition the element is `<lq:vm xmlns:lq=...>`. For virDomainSetMetadata it must
 * not declare the prefix libvirt is about to add (libvirt fails with "failed to create a new XML
 * namespace"), so there it is written in the default namespace: `<vm xmlns=...>`.
 */
export function writeMetadata(meta: LqMetadata, form: "prefixed" | "default-ns" = "prefixed"): XmlElement {
  const q = (local: string) => (form === "prefixed" ? `${METADATA_PREFIX}:${local}` : local);
  const decl = form === "prefixed" ? `xmlns:${METADATA_PREFIX}` : "xmlns";
  return el(q("vm"), { [decl]: METADATA_NS }, [
    meta.createdAt !== undefined && el(q("created-at"), {}, meta.createdAt),
    meta.cpuMode !== undefined && el(q("cpu"), { mode: meta.cpuMode }),
    meta.guestOs !== undefined && el(q("guest-os"), { name: meta.guestOs }),
    meta.description !== undefined && el(q("description"), {}, meta.description),
    el(
      q("labels"),
      {},
      meta.labels.map((l) => el(q("label"), { key: l.key, value: l.value })),
    ),
    meta.disks.length > 0 &&
      el(
        q("disks"),
        {},
        meta.disks.map((d) =>
          el(q("disk"), { id: d.id, path: d.path, volume: d.volume, pool: d.pool, bus: d.bus }, [
            d.newImage &&
              el(q("new-image"), {
                "size-bytes": d.newImage.sizeBytes,
                format: d.newImage.format,
                "backing-path": d.newImage.backingPath,
              }),
          ]),
        ),
      ),
    meta.cloudInitDigest !== undefined && el(q("cloud-init"), { sha256: meta.cloudInitDigest }),
  ]);
}

/** The element alone, for virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT, xml, "lq", METADATA_NS). */
export function serializeMetadata(meta: LqMetadata): string {
  return serializeXml(writeMetadata(meta, "default-ns"));
}

/** Our element among <metadata>'s children, or undefined when the domain has none. */
export function findMetadata(metadata: XmlNode | undefined): XmlNode | undefined {
  return child(metadata, "vm", METADATA_NS);
}

const mine = (node: XmlNode | undefined, local: string) => child(node, local, METADATA_NS) ?? child(node, local);
const allMine = (node: XmlNode | undefined, local: string) =>
  node?.children.filter((c) => c.local === local && (c.ns === METADATA_NS || c.ns === undefined)) ?? [];

export function readMetadata(vm: XmlNode): LqMetadata {
  const labels = allMine(mine(vm, "labels"), "label").flatMap((l) => {
    const key = attr(l, "key");
    return key === undefined ? [] : [{ key, value: attr(l, "value") ?? "" }];
  });
  const disks = allMine(mine(vm, "disks"), "disk").flatMap((d): LqDiskMeta[] => {
    const id = attr(d, "id");
    if (id === undefined) return [];
    const meta: LqDiskMeta = { id };
    for (const key of ["path", "volume", "pool", "bus"] as const) {
      const value = attr(d, key);
      if (value !== undefined) meta[key] = value;
    }
    const image = mine(d, "new-image");
    const size = Number(attr(image, "size-bytes"));
    const format = attr(image, "format");
    if (image && Number.isSafeInteger(size) && format !== undefined) {
      meta.newImage = { sizeBytes: size, format };
      const backing = attr(image, "backing-path");
      if (backing !== undefined) meta.newImage.backingPath = backing;
    }
    return [meta];
  });
  const out: LqMetadata = { labels, disks };
  const cpuMode = attr(mine(vm, "cpu"), "mode");
  if (cpuMode !== undefined) out.cpuMode = cpuMode;
  const guestOs = attr(mine(vm, "guest-os"), "name");
  if (guestOs !== undefined) out.guestOs = guestOs;
  const cloudInitDigest = attr(mine(vm, "cloud-init"), "sha256");
  if (cloudInitDigest !== undefined) out.cloudInitDigest = cloudInitDigest;
  const createdAt = mine(vm, "created-at");
  if (createdAt) out.createdAt = textOf(createdAt);
  // Descriptions keep their whitespace: they are the user's text.
  const description = mine(vm, "description");
  if (description) out.description = description.text;
  return out;
}
