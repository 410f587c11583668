// <interface> per spec NIC: a host bridge or a libvirt network, an optional bandwidth limit (the
// same average both ways) and boot order. libvirt's <bandwidth> averages are kilobytes per second,
// handed to tc as "kbps" (1000 bytes/s), so 1 Mbit/s is 125 of them.

import type { NicSpec } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import type { InterfaceDef } from "../model.ts";
import { nicAlias } from "../user-alias.ts";

export const KB_PER_MBIT = 125;

export function nicDef(nic: NicSpec, field = "nic"): InterfaceDef {
  const base: Omit<InterfaceDef, "type"> = { mac: nic.mac, model: nic.model, alias: nicAlias(nic.id) };
  if (nic.bandwidthMbps !== undefined && nic.bandwidthMbps > 0) {
    const average = nic.bandwidthMbps * KB_PER_MBIT;
    base.bandwidth = { inbound: average, outbound: average };
  }
  if (nic.bootOrder !== undefined && nic.bootOrder > 0) base.bootOrder = nic.bootOrder;
  if (nic.bridge !== undefined && nic.network === undefined) return { type: "bridge", source: nic.bridge, ...base };
  if (nic.network !== undefined && nic.bridge === undefined) return { type: "network", source: nic.network, ...base };
  throw new HypervisorError("invalid_argument", `${field}: exactly one of bridge and network must be set`, field);
}

export function configureNics(nics: NicSpec[]): InterfaceDef[] {
  return nics.map((nic, i) => nicDef(nic, `spec.nics[${i}]`));
}
