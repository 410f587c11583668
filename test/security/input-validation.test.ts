// Every request field of every RPC has a rule at the API boundary; breaking it is
// INVALID_ARGUMENT with a message that names the field and the rule. A request larger than
// server.max_message_bytes is refused by the framework and the daemon keeps serving.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BootDevice,
  type DiskBus,
  type DiskFormat,
  EventType,
  type NicModel,
  PowerState,
  StoragePoolType,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { drain, newVmId, smallVm, startHarness, type Harness } from "../reliability/harness.ts";
import { NODE_API_RPCS } from "../support/daemon.ts";

let h: Harness;
const vm = newVmId();

beforeAll(async () => {
  h = await startHarness({ tweak: (c) => (c.server.maxMessageBytes = 64 * 1024) });
  await h.grpc.createVM({ vmId: vm, ...smallVm("target", { nics: [{ id: "eth0", bridge: "br0" }] }) });
});
afterAll(() => h.stop());

async function refusal(call: Promise<unknown> | AsyncIterable<unknown>): Promise<ConnectError | undefined> {
  try {
    if (Symbol.asyncIterator in call)
      await drain(call).then((r) => {
        if (r.error) throw r.error;
      });
    else await call;
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

const GIB_DISK = { id: "d1", sizeGib: 1n };
const disk = (extra: Record<string, unknown>) => ({ ...GIB_DISK, ...extra });
const withSpec = (extra: Record<string, unknown>, labels: Record<string, string> = {}) => ({
  vmId: newVmId(),
  ...smallVm(`v-${Math.random().toString(36).slice(2, 8)}`, extra, labels),
});

// [name, call, field the message must name, words of the rule]
const cases: [string, () => Promise<unknown> | AsyncIterable<unknown>, string, RegExp][] = [
  ["CreateVM vm_id", () => h.grpc.createVM({ vmId: "VM-1", ...smallVm("x") }), "vm_id", /UUID/],
  ["CreateVM nil vm_id", () => h.grpc.createVM({ vmId: "00000000-0000-0000-0000-000000000000", ...smallVm("x") }), "vm_id", /nil/],
  ["CreateVM spec missing", () => h.grpc.createVM({ vmId: newVmId(), name: "no-spec" }), "spec", /required/],
  ["CreateVM name chars", () => h.grpc.createVM({ vmId: newVmId(), ...smallVm("a b<script>") }), "name", /A-Z a-z 0-9/],
  ["CreateVM name length", () => h.grpc.createVM({ vmId: newVmId(), ...smallVm("n".repeat(65)) }), "name", /at most 64/],
  ["CreateVM vcpus", () => h.grpc.createVM(withSpec({ cpuSockets: 64, cpuCores: 64, cpuThreadsPerCore: 2 })), "spec.cpu_cores", /at most 512/],
  ["CreateVM memory low", () => h.grpc.createVM(withSpec({ memoryMib: 1n })), "spec.memory_mib", /between 64/],
  ["CreateVM memory huge", () => h.grpc.createVM(withSpec({ memoryMib: 1n << 60n })), "spec.memory_mib", /too large|between/],
  ["CreateVM cpu_mode enum", () => h.grpc.createVM(withSpec({ cpuMode: 42 })), "spec.cpu_mode", /unknown value 42/],
  ["CreateVM firmware enum", () => h.grpc.createVM(withSpec({ firmware: 7 })), "spec.firmware", /unknown value 7/],
  ["CreateVM boot_order enum", () => h.grpc.createVM(withSpec({ bootOrder: [BootDevice.DISK, 9] })), "spec.boot_order[1]", /unknown value 9/],
  [
    "CreateVM disk count",
    () => h.grpc.createVM(withSpec({ disks: Array.from({ length: 65 }, (_, i) => ({ id: `d${i}`, sizeGib: 1n })) })),
    "spec.disks",
    /at most 64/,
  ],
  ["CreateVM disk size", () => h.grpc.createVM(withSpec({ disks: [disk({ sizeGib: 1n << 40n })] })), "spec.disks[0].size_gib", /between|too large/],
  ["CreateVM disk id", () => h.grpc.createVM(withSpec({ disks: [disk({ id: "../x" })] })), "spec.disks[0].id", /a-z 0-9/],
  ["CreateVM disk bus enum", () => h.grpc.createVM(withSpec({ disks: [disk({ bus: 99 as DiskBus })] })), "spec.disks[0].bus", /unknown value 99/],
  ["CreateVM disk format enum", () => h.grpc.createVM(withSpec({ disks: [disk({ format: 5 as DiskFormat })] })), "spec.disks[0].format", /unknown value 5/],
  ["CreateVM disk volume name", () => h.grpc.createVM(withSpec({ disks: [disk({ path: "images/a.qcow2" })] })), "spec.disks[0].path", /volume name|file name/],
  [
    "CreateVM disk path ..",
    () => h.grpc.createVM(withSpec({ disks: [disk({ path: `${h.config.hypervisor.storagePath}/../../etc/shadow` })] })),
    "spec.disks[0].path",
    /'\.\.'/,
  ],
  ["CreateVM disk path outside", () => h.grpc.createVM(withSpec({ disks: [disk({ path: "/etc/shadow" })] })), "spec.disks[0].path", /inside the storage roots/],
  [
    "CreateVM backing file outside",
    () => h.grpc.createVM(withSpec({ disks: [disk({ backingFile: "/dev/sda" })] })),
    "spec.disks[0].backing_file",
    /inside the storage roots/,
  ],
  ["CreateVM disk pool_id", () => h.grpc.createVM(withSpec({ disks: [disk({ poolId: "../pool" })] })), "spec.disks[0].pool_id", /A-Z a-z 0-9|characters/],
  [
    "CreateVM cdrom iso outside",
    () => h.grpc.createVM(withSpec({ cdroms: [{ id: "cd", isoPath: "/etc/shadow" }] })),
    "spec.cdroms[0].iso_path",
    /inside the storage roots/,
  ],
  ["CreateVM cdrom iso ..", () => h.grpc.createVM(withSpec({ cdroms: [{ id: "cd", isoPath: "../../etc/passwd" }] })), "spec.cdroms[0].iso_path", /'\.\.'/],
  ["CreateVM cdrom id reserved", () => h.grpc.createVM(withSpec({ cdroms: [{ id: "cloud-init" }] })), "spec.cdroms[0].id", /cloud-init/],
  [
    "CreateVM nic count",
    () => h.grpc.createVM(withSpec({ nics: Array.from({ length: 33 }, (_, i) => ({ id: `n${i}`, network: "default" })) })),
    "spec.nics",
    /at most 32/,
  ],
  ["CreateVM nic model enum", () => h.grpc.createVM(withSpec({ nics: [{ id: "n", model: 7 as NicModel }] })), "spec.nics[0].model", /unknown value 7/],
  [
    "CreateVM MAC format",
    () => h.grpc.createVM(withSpec({ nics: [{ id: "n", bridge: "br0", macAddress: "52:54:00:zz:00:01" }] })),
    "spec.nics[0].mac_address",
    /52:54:00:12:34:56/,
  ],
  [
    "CreateVM MAC multicast",
    () => h.grpc.createVM(withSpec({ nics: [{ id: "n", bridge: "br0", macAddress: "01:00:5e:00:00:01" }] })),
    "spec.nics[0].mac_address",
    /unicast/,
  ],
  ["CreateVM bridge name", () => h.grpc.createVM(withSpec({ nics: [{ id: "n", bridge: "br0;rm -rf" }] })), "spec.nics[0].bridge", /interface name/],
  [
    "CreateVM PCI address",
    () => h.grpc.createVM(withSpec({ hostDevices: [{ pciAddress: "0000:01:00" }] })),
    "spec.host_devices[0].pci_address",
    /DDDD:BB:SS.F/,
  ],
  ["CreateVM label key", () => h.grpc.createVM(withSpec({}, { "bad key": "v" })), "labels", /A-Z a-z 0-9/],
  ["CreateVM label value", () => h.grpc.createVM(withSpec({}, { k: "v".repeat(257) })), "labels", /at most 256/],
  [
    "CreateVM label count",
    () => h.grpc.createVM(withSpec({}, Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])))),
    "labels",
    /at most 64/,
  ],
  [
    "CreateVM console both",
    () => h.grpc.createVM(withSpec({ console: { vncEnabled: true, spiceEnabled: true } })),
    "spec.console",
    /one of vnc_enabled and spice_enabled/,
  ],
  ["CreateVM console listen", () => h.grpc.createVM(withSpec({ console: { vncEnabled: true, listen: "example.com" } })), "spec.console.listen", /IPv4 or IPv6/],
  ["CreateVM guest_os", () => h.grpc.createVM(withSpec({ guestOs: "Windows Server!" })), "spec.guest_os", /a-z 0-9/],
  ["CreateVM description", () => h.grpc.createVM(withSpec({ description: "a\u0000b" })), "spec.description", /control characters/],
  ["StartVM vm_id", () => h.grpc.startVM({ vmId: "" }), "vm_id", /UUID/],
  ["StopVM timeout", () => h.grpc.stopVM({ vmId: vm, timeoutSeconds: 3601 }), "timeout_seconds", /at most 3600/],
  ["ForceStopVM vm_id", () => h.grpc.forceStopVM({ vmId: "x" }), "vm_id", /UUID/],
  ["RebootVM vm_id", () => h.grpc.rebootVM({ vmId: "x" }), "vm_id", /UUID/],
  ["PauseVM vm_id", () => h.grpc.pauseVM({ vmId: "x" }), "vm_id", /UUID/],
  ["ResumeVM vm_id", () => h.grpc.resumeVM({ vmId: "x" }), "vm_id", /UUID/],
  ["DeleteVM vm_id", () => h.grpc.deleteVM({ vmId: "x" }), "vm_id", /UUID/],
  ["GetVMStatus vm_id", () => h.grpc.getVMStatus({ vmId: `${vm.toUpperCase()}x` }), "vm_id", /UUID/],
  ["GetConsole vm_id", () => h.grpc.getConsole({ vmId: "x" }), "vm_id", /UUID/],
  ["ListVMs state", () => h.grpc.listVMs({ states: [42 as PowerState] }), "states[0]", /unknown power state/],
  ["ListVMs state unknown", () => h.grpc.listVMs({ states: [PowerState.UNKNOWN] }), "states[0]", /unknown power state/],
  ["ListVMs states count", () => h.grpc.listVMs({ states: Array(17).fill(PowerState.RUNNING) }), "states", /at most 16/],
  ["ListVMs page size", () => h.grpc.listVMs({ pageSize: 10_001 }), "page_size", /at most 10000/],
  ["ListVMs page token", () => h.grpc.listVMs({ pageToken: "bm90LWEtdG9rZW4" }), "page_token", /not a token/],
  ["ListVMs page token length", () => h.grpc.listVMs({ pageToken: "a".repeat(300) }), "page_token", /not a token/],
  ["ListVMs selector key", () => h.grpc.listVMs({ labelSelector: { "": "x" } }), "label_selector", /key must be/],
  ["CreateSnapshot name", () => h.grpc.createSnapshot({ vmId: vm, name: "../../etc" }), "name", /A-Z a-z 0-9/],
  ["CreateSnapshot description", () => h.grpc.createSnapshot({ vmId: vm, name: "s", description: "d".repeat(4097) }), "description", /at most 4096/],
  ["RevertSnapshot snapshot_id missing", () => h.grpc.revertSnapshot({ vmId: vm, snapshotId: "" }), "snapshot_id", /must be set/],
  ["DeleteSnapshot snapshot_id", () => h.grpc.deleteSnapshot({ vmId: vm, snapshotId: "a/b" }), "snapshot_id", /A-Z a-z 0-9/],
  ["ListSnapshots vm_id", () => h.grpc.listSnapshots({ vmId: "x" }), "vm_id", /UUID/],
  ["MigrateVM scheme", () => h.grpc.migrateVM({ vmId: vm, targetNodeUri: "http://node2/system" }), "target_node_uri", /scheme must be one of/],
  ["MigrateVM not a URI", () => h.grpc.migrateVM({ vmId: vm, targetNodeUri: "node2" }), "target_node_uri", /URI like/],
  ["MigrateVM query", () => h.grpc.migrateVM({ vmId: vm, targetNodeUri: "qemu+ssh://node2/system?command=/tmp/evil" }), "target_node_uri", /query/],
  ["MigrateVM password", () => h.grpc.migrateVM({ vmId: vm, targetNodeUri: "qemu+tcp://root:hunter2@node2/system" }), "target_node_uri", /password/],
  ["MigrateVM downtime", () => h.grpc.migrateVM({ vmId: vm, targetNodeUri: "qemu+tcp://node2/system", maxDowntimeMs: 600_001 }), "max_downtime_ms", /at most/],
  [
    "MigrateVM bandwidth",
    () => h.grpc.migrateVM({ vmId: vm, targetNodeUri: "qemu+tcp://node2/system", bandwidthMibPerS: 1n << 40n }),
    "bandwidth_mib_per_s",
    /at most/,
  ],
  ["AttachDisk missing", () => h.grpc.attachDisk({ vmId: vm }), "disk", /required/],
  [
    "AttachDisk path outside",
    () => h.grpc.attachDisk({ vmId: vm, disk: { id: "d2", path: "/var/lib/mysql/ibdata1" } }),
    "disk.path",
    /inside the storage roots/,
  ],
  ["AttachDisk nothing to attach", () => h.grpc.attachDisk({ vmId: vm, disk: { id: "d2" } }), "disk.path", /existing image.*size_gib or backing_file/],
  ["CreateVM disk with nothing", () => h.grpc.createVM(withSpec({ disks: [{ id: "d0" }] })), "spec.disks[0].path", /existing image.*size_gib or backing_file/],
  ["AttachDisk bus enum", () => h.grpc.attachDisk({ vmId: vm, disk: { id: "d2", sizeGib: 1n, bus: 9 as DiskBus } }), "disk.bus", /unknown value 9/],
  ["DetachDisk id missing", () => h.grpc.detachDisk({ vmId: vm, diskId: "" }), "disk_id", /must be set/],
  ["DetachDisk id chars", () => h.grpc.detachDisk({ vmId: vm, diskId: "vda'/>" }), "disk_id", /a-z 0-9/],
  ["AttachNIC network name", () => h.grpc.attachNIC({ vmId: vm, nic: { id: "n2", network: "-bad" } }), "nic.network", /not start with/],
  ["AttachNIC missing", () => h.grpc.attachNIC({ vmId: vm }), "nic", /required/],
  ["DetachNIC id", () => h.grpc.detachNIC({ vmId: vm, nicId: "ETH0" }), "nic_id", /a-z 0-9/],
  ["ChangeMedia no drive named", () => h.grpc.changeMedia({ vmId: vm, isoPath: "" }), "device", /name the CD-ROM/],
  ["ChangeMedia device", () => h.grpc.changeMedia({ vmId: vm, device: "hda'/>" }), "device", /CD-ROM device name/],
  ["ChangeMedia cdrom_id", () => h.grpc.changeMedia({ vmId: vm, cdromId: "CD 0" }), "cdrom_id", /a-z 0-9/],
  ["ChangeMedia iso outside", () => h.grpc.changeMedia({ vmId: vm, device: "sda", isoPath: "/etc/shadow" }), "iso_path", /inside the storage roots/],
  ["StreamMetrics interval", () => h.grpc.streamMetrics({ intervalMs: 100 }), "interval_ms", /between 250/],
  ["StreamMetrics interval_seconds", () => h.grpc.streamMetrics({ intervalSeconds: 7200 }), "interval_seconds", /between 250/],
  ["StreamMetrics vm_ids", () => h.grpc.streamMetrics({ vmIds: ["nope"] }), "vm_ids[0]", /UUID/],
  ["StreamMetrics vm_ids count", () => h.grpc.streamMetrics({ vmIds: Array.from({ length: 1025 }, () => newVmId()) }), "vm_ids", /at most 1024/],
  ["StreamEvents type", () => h.grpc.streamEvents({ types: [99 as EventType] }), "types[0]", /unknown event type/],
  ["StreamEvents type unknown", () => h.grpc.streamEvents({ types: [EventType.UNKNOWN] }), "types[0]", /unknown event type/],
  ["StreamEvents vm_ids", () => h.grpc.streamEvents({ vmIds: ["x"] }), "vm_ids[0]", /UUID/],
  ["StreamEvents after_sequence", () => h.grpc.streamEvents({ afterSequence: 1n << 60n }), "after_sequence", /at most/],
  ["StreamEvents from_oldest and after_sequence", () => h.grpc.streamEvents({ afterSequence: 1n, fromOldest: true }), "from_oldest", /either/],
  ["InitStoragePool pool_id", () => h.grpc.initStoragePool({ poolId: "../etc", type: StoragePoolType.LOCAL_DIR }), "pool_id", /A-Z a-z 0-9|characters/],
  ["InitStoragePool type", () => h.grpc.initStoragePool({ poolId: "p1" }), "type", /Invalid pool type/],
  [
    "InitStoragePool local path",
    () => h.grpc.initStoragePool({ poolId: "p1", type: StoragePoolType.LOCAL_DIR, config: { local: { path: "pools/p1" } } }),
    "config.local.path",
    /absolute/,
  ],
  ["GetStoragePoolInfo pool_id", () => h.grpc.getStoragePoolInfo({ poolId: "a/b" }), "pool_id", /A-Z a-z 0-9|characters/],
  ["ListStoragePoolFiles pool_id", () => h.grpc.listStoragePoolFiles({ poolId: "" }), "pool_id", /must be set|characters/],
  ["ListStoragePoolFiles path ..", () => h.grpc.listStoragePoolFiles({ poolId: "default", path: "iso/../../etc" }), "path", /'\.\.'/],
  ["ListStoragePoolFiles path absolute", () => h.grpc.listStoragePoolFiles({ poolId: "default", path: "/etc" }), "path", /relative to the pool root/],
  ["ListStoragePoolFiles path NUL", () => h.grpc.listStoragePoolFiles({ poolId: "default", path: "iso\u0000" }), "path", /NUL/],
  ["ResizeVolume volume_id", () => h.grpc.resizeVolume({ poolId: "default", volumeId: "", newSizeBytes: 1n << 30n }), "volume_id", /required/],
  ["ResizeVolume size", () => h.grpc.resizeVolume({ poolId: "default", volumeId: "root", newSizeBytes: 0n }), "new_size_bytes", /between 1/],
  ["ResizeVolume pool_id", () => h.grpc.resizeVolume({ poolId: "a b", volumeId: "root", newSizeBytes: 1n << 30n }), "pool_id", /A-Z a-z 0-9|characters/],
];

describe("input validation at the API boundary", () => {
  test.each(cases)("%s", async (_name, call, field, rule) => {
    const err = await refusal(call());
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err!.rawMessage.startsWith(`${field}`)).toBe(true);
    expect(err!.rawMessage).toMatch(rule);
  });

  test("every RPC of the node API with a request field has at least one rule tested here", () => {
    const covered = new Set(cases.map(([name]) => name.split(" ")[0]));
    const withoutFields = ["HealthCheck", "GetNodeInfo", "ListStoragePools"];
    const methods = NODE_API_RPCS.filter((n) => !withoutFields.includes(n));
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
  });

  test("nothing was created or changed by the refused requests", async () => {
    const list = await h.grpc.listVMs({});
    expect(list.vms.map((v) => v.vmId)).toEqual([vm]);
    const status = await h.grpc.getVMStatus({ vmId: vm });
    expect(status.spec!.disks.length).toBe(0);
    // The node's empty drive, with no medium put in it.
    expect(status.spec!.cdroms.map((c) => [c.id, c.isoPath])).toEqual([["cdrom-0", ""]]);
    expect(status.spec!.nics.map((n) => n.id)).toEqual(["eth0"]);
    expect(status.snapshotCount).toBe(0);
    expect((await h.grpc.listStoragePools({})).pools.map((p) => p.poolId)).toEqual(["default"]);
  });

  test("a request above server.max_message_bytes is refused and the daemon keeps serving", async () => {
    const big = { vmId: newVmId(), ...smallVm("big", { description: "x".repeat(100 * 1024) }, { k: "v" }) };
    const viaGrpc = await refusal(h.grpc.createVM(big));
    expect(viaGrpc?.code).toBe(Code.ResourceExhausted);
    const viaJson = await refusal(h.connect.createVM(big));
    expect(viaJson?.code).toBe(Code.ResourceExhausted);
    expect((await h.grpc.healthCheck({})).healthy).toBe(true);
    expect((await h.connect.healthCheck({})).healthy).toBe(true);
    expect(await refusal(h.grpc.getVMStatus({ vmId: big.vmId }))).toMatchObject({ code: Code.NotFound });
  });
});
