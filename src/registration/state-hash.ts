// The state hash of contract 6.5: a short digest of which VMs the node has, in which power state,
// after how many changes. Sent in every heartbeat (field 12) and in SyncFullState (field 5) so a
// control plane can tell that its picture of the node drifted without a full sync.
import { createHash } from "node:crypto";
import type { VMPowerState } from "../gen/limiquantix/compute/v1/node_service_pb.ts";

export interface HashedVm {
  id: string;
  power: VMPowerState;
  changeCount: number;
}

/** SHA-256 over "<uuid>:<power digit>:<change count>\n" per VM sorted by id; 16 lowercase hex chars. */
export function stateHash(vms: readonly HashedVm[]): string {
  // Code-unit order, as the reference sorts Rust Strings (bytewise), never locale order.
  const sorted = [...vms].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const hash = createHash("sha256");
  for (const vm of sorted) hash.update(`${vm.id}:${vm.power}:${vm.changeCount}\n`);
  return hash.digest("hex").slice(0, 16);
}
