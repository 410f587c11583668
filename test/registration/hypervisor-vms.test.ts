// The hypervisor as the registrar sees it, against the mock backend's real events.
import { afterEach, describe, expect, test } from "bun:test";
import type { HypervisorEvent } from "../../src/hypervisor/types.ts";
import { changeOf, hypervisorVmSource } from "../../src/registration/hypervisor-vms.ts";
import type { NodeVmChange } from "../../src/registration/types.ts";
import { closeMocks, create, mock } from "../hypervisor/mock-helpers.ts";

afterEach(closeMocks);

describe("changeOf", () => {
  const table: [string, HypervisorEvent, NodeVmChange | undefined][] = [
    ["created", { type: "vm_created", vmId: "u", vmName: "w", state: "stopped", message: "" }, { kind: "present", id: "u", name: "w", state: "stopped" }],
    [
      "state changed",
      { type: "vm_state_changed", vmId: "u", vmName: "w", state: "running", previousState: "stopped", message: "" },
      { kind: "present", id: "u", name: "w", state: "running" },
    ],
    ["deleted without a name", { type: "vm_deleted", vmId: "u", message: "" }, { kind: "gone", id: "u" }],
    ["a state change without a state", { type: "vm_state_changed", vmId: "u", message: "" }, undefined],
    ["not about a VM's presence or state", { type: "snapshot_created", vmId: "u", state: "running", message: "" }, undefined],
    ["no VM id", { type: "node", message: "" }, undefined],
  ];
  for (const [name, event, want] of table) test(name, () => expect(changeOf(event)).toEqual(want));
});

describe("hypervisorVmSource over the mock", () => {
  test("lists VMs with vCPUs, memory and disk paths; pushes create, start and delete", async () => {
    const hv = mock();
    const source = hypervisorVmSource(hv);
    const changes: NodeVmChange[] = [];
    const unsubscribe = source.onChange((c) => changes.push(c));
    const id = await create(hv, { name: "web", cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 2 }, memoryMib: 2048 });
    const [vm] = await source.list();
    expect(vm).toMatchObject({ id, name: "web", state: "stopped", cpuCores: 4, memoryMib: 2048 });
    expect(vm!.diskPaths).toHaveLength(1);
    expect(vm!.diskPaths![0]).toMatch(/\S/);
    await hv.startVm(id);
    await hv.deleteVm(id, { deleteDisks: true, force: true });
    unsubscribe();
    const ours = changes.filter((c) => c.id === id);
    expect(ours[0]).toEqual({ kind: "present", id, name: "web", state: "stopped" });
    expect(ours).toContainEqual({ kind: "present", id, name: "web", state: "running" });
    expect(ours.at(-1)).toEqual({ kind: "gone", id });
  });
});
