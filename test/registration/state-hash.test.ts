// Contract 6.5. Expected values computed outside this code: printf '<lines>' | sha256sum | cut -c1-16.
import { describe, expect, test } from "bun:test";
import { VMPowerState as P } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import { stateHash, type HashedVm } from "../../src/registration/state-hash.ts";

const a = "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20";
const b = "0c4e5f6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a";

const cases: { name: string; vms: HashedVm[]; hash: string }[] = [
  { name: "no VMs: the hash of the empty string", vms: [], hash: "e3b0c44298fc1c14" },
  { name: "one running VM", vms: [{ id: a, power: P.VM_POWER_STATE_RUNNING, changeCount: 0 }], hash: "ff094436f4062753" },
  { name: "unknown is digit 0", vms: [{ id: a, power: P.VM_POWER_STATE_UNKNOWN, changeCount: 0 }], hash: "b584e8fb13b474f5" },
  {
    name: "sorted by id whatever the input order; the change count is hashed",
    vms: [
      { id: a, power: P.VM_POWER_STATE_RUNNING, changeCount: 0 },
      { id: b, power: P.VM_POWER_STATE_STOPPED, changeCount: 3 },
    ],
    hash: "224e41c6b94612e6",
  },
  {
    name: 'code-unit order, not locale order ("B" before "a")',
    vms: [
      { id: "a", power: P.VM_POWER_STATE_SUSPENDED, changeCount: 0 },
      { id: "B", power: P.VM_POWER_STATE_CRASHED, changeCount: 1 },
    ],
    hash: "b2b8c0d627f2374c",
  },
];

describe("stateHash", () => {
  for (const c of cases) {
    test(c.name, () => {
      expect(stateHash(c.vms)).toBe(c.hash);
      expect(stateHash([...c.vms].reverse())).toBe(c.hash);
    });
  }
  test("16 lowercase hex characters; the input is not reordered", () => {
    const vms = cases[3]!.vms;
    const before = vms.map((v) => v.id);
    expect(stateHash(vms)).toMatch(/^[0-9a-f]{16}$/);
    expect(vms.map((v) => v.id)).toEqual(before);
  });
});
