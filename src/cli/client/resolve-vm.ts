// Operators name VMs the way they see them: by id, by name, or by an unambiguous prefix of
// either (as docker does with ids). Names are unique on a node, so an exact name always wins.

import type { VMStatusResponse } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { EXIT_USAGE } from "../usage-error.ts";
import type { DaemonClient } from "./connection.ts";
import { CliFailure } from "./failures.ts";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHOWN_CANDIDATES = 10;

export interface VmRef {
  id: string;
  /** Known when the argument was resolved through the list. */
  name?: string;
}

const describe = (vm: VMStatusResponse) => `${vm.name} (${vm.vmId})`;

function listing(vms: VMStatusResponse[]): string {
  const shown = vms.slice(0, SHOWN_CANDIDATES).map(describe).join(", ");
  return vms.length > SHOWN_CANDIDATES ? `${shown}, and ${vms.length - SHOWN_CANDIDATES} more` : shown;
}

/** Pure: picks the VM an argument names among the node's VMs, or throws naming the candidates. */
export function pickVm(arg: string, vms: VMStatusResponse[]): VmRef {
  const exact = vms.find((vm) => vm.name === arg || vm.vmId === arg.toLowerCase());
  if (exact) return { id: exact.vmId, name: exact.name };
  const lower = arg.toLowerCase();
  const matches = vms.filter((vm) => vm.name.startsWith(arg) || (lower.length >= 4 && vm.vmId.startsWith(lower)));
  if (matches.length === 1) return { id: matches[0]!.vmId, name: matches[0]!.name };
  if (matches.length > 1) {
    throw new CliFailure(`"${arg}" is ambiguous: it matches ${listing(matches)}; give the full name or id`, EXIT_USAGE);
  }
  const here = vms.length ? `vms on this node: ${listing(vms)}` : "there are no vms on this node";
  throw new CliFailure(`not_found: no vm named "${arg}" on this node (${here})`);
}

/** A full UUID goes to the daemon as it is (which answers NOT_FOUND itself); anything else is looked up in the list. */
export async function resolveVm(client: DaemonClient, arg: string): Promise<VmRef> {
  if (UUID_RE.test(arg)) return { id: arg.toLowerCase() };
  if (arg.trim() === "") throw new CliFailure("the vm argument is empty; give a vm name or id", EXIT_USAGE);
  const { vms } = await client.listVMs({});
  return pickVm(arg, vms);
}

/** "web-1 (0b6f…)" when the name is known, else the id. */
export const vmLabel = (ref: VmRef, vm?: VMStatusResponse): string => {
  const name = ref.name ?? vm?.name;
  return name ? `${name} (${ref.id})` : ref.id;
};
