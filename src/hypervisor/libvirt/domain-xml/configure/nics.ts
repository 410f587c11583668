// <interface> per spec NIC: a host bridge or a libvirt network.

import type { NicSpec } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import type { InterfaceDef } from "../model.ts";
import { nicAlias } from "../user-alias.ts";

export function nicDef(nic: NicSpec, field = "nic"): InterfaceDef {
  const base = { mac: nic.mac, model: nic.model, alias: nicAlias(nic.id) };
  if (nic.bridge !== undefined && nic.network === undefined) return { type: "bridge", source: nic.bridge, ...base };
  if (nic.network !== undefined && nic.bridge === undefined) return { type: "network", source: nic.network, ...base };
  throw new HypervisorError("invalid_argument", `${field}: exactly one of bridge and network must be set`, field);
}

export function configureNics(nics: NicSpec[]): InterfaceDef[] {
  return nics.map((nic, i) => nicDef(nic, `spec.nics[${i}]`));
}
