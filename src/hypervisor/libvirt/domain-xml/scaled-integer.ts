// libvirt's scaled integers (`<memory unit='MiB'>`, `<capacity unit='bytes'>`): one table of its
// units for every document that has them.

import { HypervisorError } from "../../errors.ts";
import { attr, intOf, textOf, type XmlNode } from "./xml-tree.ts";

const UNIT_BYTES: Record<string, number> = {
  b: 1,
  bytes: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** The element's value in bytes; `defaultUnit` is the document's (KiB for domains, bytes for pools). */
export function scaledBytes(node: XmlNode | undefined, where: string, defaultUnit: string): number | undefined {
  const value = intOf(textOf(node), where);
  if (value === undefined) return undefined;
  const unit = (attr(node, "unit") ?? defaultUnit).toLowerCase();
  const scale = UNIT_BYTES[unit];
  if (scale === undefined) throw new HypervisorError("internal", `${where}: unknown unit ${JSON.stringify(unit)}`);
  return value * scale;
}
