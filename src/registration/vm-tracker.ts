// What this node has told the control plane about its VMs: id, name, power state, and how many
// times the state changed since the last full sync. Changes pushed by the VM source turn into the
// events NotifyVMChange sends; the state hash is computed over this picture. No I/O here.
import type { VMPowerState } from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import { stateHash } from "./state-hash.ts";
import type { NodeVm, NodeVmChange } from "./types.ts";
import { powerStateOf } from "./vm-state.ts";

export interface TrackedVm {
  id: string;
  name: string;
  power: VMPowerState;
  /** Power state changes since the last full sync (the reference resets it there too). */
  changeCount: number;
  changedAt: Date;
}

export type VmChangeEvent =
  | { type: "created"; vm: TrackedVm; at: Date }
  | { type: "updated"; vm: TrackedVm; previous: VMPowerState; at: Date }
  /** vm is the last known entry. */
  | { type: "deleted"; vm: TrackedVm; at: Date };

export interface ResyncResult {
  /** The VMs as listed, counts reset; undefined when the listing failed. */
  snapshot?: TrackedVm[];
  /** What changed while the listing was in flight, against the new picture. */
  events: VmChangeEvent[];
}

export interface VmTracker {
  /** The event to send for a change, if it changes anything. */
  apply(change: NodeVmChange, at: Date): VmChangeEvent | undefined;
  /** From now until endResync, changes are held back: the listing may or may not include them. */
  beginResync(): void;
  /** Replaces the picture with the listed VMs (keeps it when undefined), then replays the held changes. */
  endResync(listed: NodeVm[] | undefined, at: Date): ResyncResult;
  /** Sorted by id. */
  vms(): TrackedVm[];
  hash(): string;
}

function byId(a: TrackedVm, b: TrackedVm): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Pure on its inputs but the map: updates `vms` and returns what happened. */
function applyChange(vms: Map<string, TrackedVm>, change: NodeVmChange, at: Date): VmChangeEvent | undefined {
  const known = vms.get(change.id);
  if (change.kind === "gone") {
    if (known === undefined) return undefined;
    vms.delete(change.id);
    return { type: "deleted", vm: known, at };
  }
  const power = powerStateOf(change.state);
  // A source may not know the name on every event (libvirt's delete-while-away has none).
  const name = change.name || known?.name || "";
  if (known === undefined) {
    const vm = { id: change.id, name, power, changeCount: 0, changedAt: at };
    vms.set(vm.id, vm);
    return { type: "created", vm, at };
  }
  // shutting_down after running is the same power state: nothing the control plane tracks changed.
  if (known.power === power) {
    if (name !== known.name) vms.set(known.id, { ...known, name });
    return undefined;
  }
  const vm = { id: known.id, name, power, changeCount: known.changeCount + 1, changedAt: at };
  vms.set(vm.id, vm);
  return { type: "updated", vm, previous: known.power, at };
}

export function createVmTracker(): VmTracker {
  // Undefined until the first listing: before it, nothing is known, so nothing is reported.
  let vms: Map<string, TrackedVm> | undefined;
  let held: { change: NodeVmChange; at: Date }[] | undefined;

  const sorted = () => (vms === undefined ? [] : [...vms.values()].sort(byId));

  return {
    apply(change, at) {
      if (held !== undefined) {
        held.push({ change, at });
        return undefined;
      }
      return vms === undefined ? undefined : applyChange(vms, change, at);
    },
    beginResync() {
      held ??= [];
    },
    endResync(listed, at) {
      const replay = held ?? [];
      held = undefined;
      let snapshot: TrackedVm[] | undefined;
      if (listed !== undefined) {
        vms = new Map(listed.map((vm) => [vm.id, { id: vm.id, name: vm.name, power: powerStateOf(vm.state), changeCount: 0, changedAt: at }]));
        snapshot = sorted();
      }
      const events: VmChangeEvent[] = [];
      if (vms !== undefined) {
        // Changes carry the whole new state, so replaying one the listing already shows is a no-op.
        for (const { change, at: when } of replay) {
          const event = applyChange(vms, change, when);
          if (event !== undefined) events.push(event);
        }
      }
      return { ...(snapshot !== undefined && { snapshot }), events };
    },
    vms: sorted,
    hash: () => stateHash(sorted()),
  };
}
