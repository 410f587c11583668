// Every request field of every RPC has a rule at the API boundary; breaking it is
// INVALID_ARGUMENT with a message that names the field and the rule. A request larger than
// server.max_message_bytes is refused by the framework and the daemon keeps serving.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { DiskDevice, DiskFormat, DiskBus, EventType, VMState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { drain, newVmId, smallSpec, startHarness, type Harness } from "../reliability/harness.ts";

let h: Harness;
const vm = newVmId();

beforeAll(async () => {
  h = await startHarness({ tweak: (c) => (c.server.maxMessageBytes = 64 * 1024) });
  await h.grpc.createVM({ vmId: vm, spec: smallSpec("target", { nics: [{ id: "eth0", attachment: { case: "bridge", value: "br0" } }] }) });
});
afterAll(() => h.stop());

async function refusal(call: Promise<unknown> | AsyncIterable<unknown>): Promise<ConnectError | undefined> {
  try {
    if (Symbol.asyncIterator in call) await drain(call).then((r) => { if (r.error) throw r.error; });
    else await call;
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

const disk = (source: { case: "path"; value: string } | { case: "newImage"; value: { sizeBytes: bigint; format?: DiskFormat; backingPath?: string } }, extra = {}) => ({ id: "d1", source, ...extra });
const withSpec = (extra: Record<string, unknown>) => ({ vmId: newVmId(), spec: smallSpec(`v-${Math.random().toString(36).slice(2, 8)}`, extra) });

// [name, call, field the message must name, words of the rule]
const cases: [string, () => Promise<unknown> | AsyncIterable<unknown>, string, RegExp][] = [
  ["CreateVM vm_id", () => h.grpc.createVM({ vmId: "VM-1", spec: smallSpec("x") }), "vm_id", /UUID/],
  ["CreateVM nil vm_id", () => h.grpc.createVM({ vmId: "00000000-0000-0000-0000-000000000000", spec: smallSpec("x") }), "vm_id", /nil/],
  ["CreateVM spec missing", () => h.grpc.createVM({ vmId: newVmId() }), "spec", /required/],
  ["CreateVM name chars", () => h.grpc.createVM({ vmId: newVmId(), spec: smallSpec("a b<script>") }), "spec.name", /A-Z a-z 0-9/],
  ["CreateVM name length", () => h.grpc.createVM({ vmId: newVmId(), spec: smallSpec("n".repeat(65)) }), "spec.name", /at most 64/],
  ["CreateVM vcpus", () => h.grpc.createVM(withSpec({ cpu: { sockets: 64, coresPerSocket: 64, threadsPerCore: 2 } })), "spec.cpu", /at most 512/],
  ["CreateVM memory low", () => h.grpc.createVM(withSpec({ memory: { sizeMib: 1n } })), "spec.memory.size_mib", /between 64/],
  ["CreateVM memory huge", () => h.grpc.createVM(withSpec({ memory: { sizeMib: 1n << 60n } })), "spec.memory.size_mib", /too large|between/],
  ["CreateVM disk count", () => h.grpc.createVM(withSpec({ disks: Array.from({ length: 65 }, (_, i) => ({ id: `d${i}`, source: { case: "newImage", value: { sizeBytes: 1n << 30n } } })) })), "spec.disks", /at most 64/],
  ["CreateVM disk size", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "newImage", value: { sizeBytes: 10n } })] })), "spec.disks[0].new_image.size_bytes", /between/],
  ["CreateVM disk id", () => h.grpc.createVM(withSpec({ disks: [{ ...disk({ case: "newImage", value: { sizeBytes: 1n << 30n } }), id: "../x" }] })), "spec.disks[0].id", /a-z 0-9/],
  ["CreateVM disk enum", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "newImage", value: { sizeBytes: 1n << 30n } }, { bus: 99 as DiskBus })] })), "spec.disks[0].bus", /unknown value 99/],
  ["CreateVM disk path relative", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "path", value: "images/a.qcow2" })] })), "spec.disks[0].path", /absolute/],
  ["CreateVM disk path ..", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "path", value: `${h.config.hypervisor.storagePath}/../../etc/shadow` })] })), "spec.disks[0].path", /'\.\.'/],
  ["CreateVM disk path outside", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "path", value: "/etc/shadow" })] })), "spec.disks[0].path", /inside the storage roots/],
  ["CreateVM backing path outside", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "newImage", value: { sizeBytes: 1n << 30n, format: DiskFormat.QCOW2, backingPath: "/dev/sda" } })] })), "spec.disks[0].new_image.backing_path", /inside the storage roots/],
  ["CreateVM cdrom image", () => h.grpc.createVM(withSpec({ disks: [disk({ case: "newImage", value: { sizeBytes: 1n << 30n } }, { device: DiskDevice.CDROM, bus: DiskBus.SATA })] })), "spec.disks[0].new_image", /existing path/],
  ["CreateVM nic count", () => h.grpc.createVM(withSpec({ nics: Array.from({ length: 33 }, (_, i) => ({ id: `n${i}`, attachment: { case: "network", value: "default" } })) })), "spec.nics", /at most 32/],
  ["CreateVM MAC format", () => h.grpc.createVM(withSpec({ nics: [{ id: "n", attachment: { case: "bridge", value: "br0" }, mac: "52:54:00:zz:00:01" }] })), "spec.nics[0].mac", /52:54:00:12:34:56/],
  ["CreateVM MAC multicast", () => h.grpc.createVM(withSpec({ nics: [{ id: "n", attachment: { case: "bridge", value: "br0" }, mac: "01:00:5e:00:00:01" }] })), "spec.nics[0].mac", /unicast/],
  ["CreateVM bridge name", () => h.grpc.createVM(withSpec({ nics: [{ id: "n", attachment: { case: "bridge", value: "br0;rm -rf" } }] })), "spec.nics[0].bridge", /interface name/],
  ["CreateVM PCI address", () => h.grpc.createVM(withSpec({ hostDevices: [{ pciAddress: "0000:01:00" }] })), "spec.host_devices[0].pci_address", /DDDD:BB:SS.F/],
  ["CreateVM label key", () => h.grpc.createVM(withSpec({ labels: { "bad key": "v" } })), "spec.labels", /A-Z a-z 0-9/],
  ["CreateVM label value", () => h.grpc.createVM(withSpec({ labels: { k: "v".repeat(257) } })), "spec.labels", /at most 256/],
  ["CreateVM label count", () => h.grpc.createVM(withSpec({ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) })), "spec.labels", /at most 64/],
  ["CreateVM console listen", () => h.grpc.createVM(withSpec({ console: { listen: "example.com" } })), "spec.console.listen", /IPv4 or IPv6/],
  ["CreateVM description", () => h.grpc.createVM(withSpec({ description: "a\u0000b" })), "spec.description", /control characters/],
  ["StartVM vm_id", () => h.grpc.startVM({ vmId: "" }), "vm_id", /UUID/],
  ["StopVM timeout", () => h.grpc.stopVM({ vmId: vm, timeoutSeconds: 3601 }), "timeout_seconds", /at most 3600/],
  ["ForceStopVM vm_id", () => h.grpc.forceStopVM({ vmId: "x" }), "vm_id", /UUID/],
  ["RebootVM vm_id", () => h.grpc.rebootVM({ vmId: "x" }), "vm_id", /UUID/],
  ["PauseVM vm_id", () => h.grpc.pauseVM({ vmId: "x" }), "vm_id", /UUID/],
  ["ResumeVM vm_id", () => h.grpc.resumeVM({ vmId: "x" }), "vm_id", /UUID/],
  ["DeleteVM vm_id", () => h.grpc.deleteVM({ vmId: "x" }), "vm_id", /UUID/],
  ["GetVMStatus vm_id", () => h.grpc.getVMStatus({ vmId: vm.toUpperCase() + "x" }), "vm_id", /UUID/],
  ["GetConsole vm_id", () => h.grpc.getConsole({ vmId: "x" }), "vm_id", /UUID/],
  ["ListVMs state", () => h.grpc.listVMs({ states: [42 as VMState] }), "states[0]", /unknown VM state/],
  ["ListVMs states count", () => h.grpc.listVMs({ states: Array(17).fill(VMState.VM_STATE_RUNNING) }), "states", /at most 16/],
  ["ListVMs page size", () => h.grpc.listVMs({ pageSize: 10_001 }), "page_size", /at most 10000/],
  ["ListVMs page token", () => h.grpc.listVMs({ pageToken: "bm90LWEtdG9rZW4" }), "page_token", /not a token/],
  ["ListVMs page token length", () => h.grpc.listVMs({ pageToken: "a".repeat(300) }), "page_token", /not a token/],
  ["ListVMs selector key", () => h.grpc.listVMs({ labelSelector: { "": "x" } }), "label_selector", /key must be/],
  ["CreateSnapshot name", () => h.grpc.createSnapshot({ vmId: vm, name: "../../etc" }), "name", /A-Z a-z 0-9/],
  ["CreateSnapshot description", () => h.grpc.createSnapshot({ vmId: vm, name: "s", description: "d".repeat(4097) }), "description", /at most 4096/],
  ["RevertSnapshot name missing", () => h.grpc.revertSnapshot({ vmId: vm, name: "" }), "name", /must be set/],
  ["DeleteSnapshot name", () => h.grpc.deleteSnapshot({ vmId: vm, name: "a/b" }), "name", /A-Z a-z 0-9/],
  ["ListSnapshots vm_id", () => h.grpc.listSnapshots({ vmId: "x" }), "vm_id", /UUID/],
  ["MigrateVM scheme", () => h.grpc.migrateVM({ vmId: vm, targetUri: "http://node2/system" }), "target_uri", /scheme must be one of/],
  ["MigrateVM not a URI", () => h.grpc.migrateVM({ vmId: vm, targetUri: "node2" }), "target_uri", /URI like/],
  ["MigrateVM query", () => h.grpc.migrateVM({ vmId: vm, targetUri: "qemu+ssh://node2/system?command=/tmp/evil" }), "target_uri", /query/],
  ["MigrateVM password", () => h.grpc.migrateVM({ vmId: vm, targetUri: "qemu+tcp://root:hunter2@node2/system" }), "target_uri", /password/],
  ["MigrateVM downtime", () => h.grpc.migrateVM({ vmId: vm, targetUri: "qemu+tcp://node2/system", maxDowntimeMs: 600_001 }), "max_downtime_ms", /at most/],
  ["MigrateVM bandwidth", () => h.grpc.migrateVM({ vmId: vm, targetUri: "qemu+tcp://node2/system", bandwidthMibPerS: 1n << 40n }), "bandwidth_mib_per_s", /at most/],
  ["AttachDisk missing", () => h.grpc.attachDisk({ vmId: vm }), "disk", /required/],
  ["AttachDisk path outside", () => h.grpc.attachDisk({ vmId: vm, disk: disk({ case: "path", value: "/var/lib/mysql/ibdata1" }) }), "disk.path", /inside the storage roots/],
  ["AttachDisk source", () => h.grpc.attachDisk({ vmId: vm, disk: { id: "d2" } }), "disk.source", /exactly one/],
  ["DetachDisk id missing", () => h.grpc.detachDisk({ vmId: vm, diskId: "" }), "disk_id", /must be set/],
  ["DetachDisk id chars", () => h.grpc.detachDisk({ vmId: vm, diskId: "vda'/>" }), "disk_id", /a-z 0-9/],
  ["AttachNIC network name", () => h.grpc.attachNIC({ vmId: vm, nic: { id: "n2", attachment: { case: "network", value: "-bad" } } }), "nic.network", /not start with/],
  ["AttachNIC missing", () => h.grpc.attachNIC({ vmId: vm }), "nic", /required/],
  ["DetachNIC id", () => h.grpc.detachNIC({ vmId: vm, nicId: "ETH0" }), "nic_id", /a-z 0-9/],
  ["StreamMetrics interval", () => h.grpc.streamMetrics({ intervalMs: 100 }), "interval_ms", /between 250/],
  ["StreamMetrics vm_ids", () => h.grpc.streamMetrics({ vmIds: ["nope"] }), "vm_ids[0]", /UUID/],
  ["StreamMetrics vm_ids count", () => h.grpc.streamMetrics({ vmIds: Array.from({ length: 1025 }, () => newVmId()) }), "vm_ids", /at most 1024/],
  ["StreamEvents type", () => h.grpc.streamEvents({ types: [99 as EventType] }), "types[0]", /unknown event type/],
  ["StreamEvents vm_ids", () => h.grpc.streamEvents({ vmIds: ["x"] }), "vm_ids[0]", /UUID/],
  ["StreamEvents after_event_id", () => h.grpc.streamEvents({ afterEventId: 1n << 60n }), "after_event_id", /at most/],
];

describe("input validation at the API boundary", () => {
  test.each(cases)("%s", async (_name, call, field, rule) => {
    const err = await refusal(call());
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err!.rawMessage.startsWith(`${field}`)).toBe(true);
    expect(err!.rawMessage).toMatch(rule);
  });

  test("every RPC with a request field has at least one rule tested here", () => {
    const covered = new Set(cases.map(([name]) => name.split(" ")[0]));
    const withoutFields = ["HealthCheck", "GetNodeInfo"];
    const { NodeDaemonService } = require("../../src/gen/limiquantix/node/v1/node_daemon_pb.ts");
    const methods = (NodeDaemonService.methods as { name: string }[]).map((m) => m.name).filter((n) => !withoutFields.includes(n));
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
  });

  test("nothing was created or changed by the refused requests", async () => {
    const list = await h.grpc.listVMs({});
    expect(list.vms.map((v) => v.vmId)).toEqual([vm]);
    const status = await h.grpc.getVMStatus({ vmId: vm });
    expect(status.spec!.disks.length).toBe(0);
    expect(status.spec!.nics.map((n) => n.id)).toEqual(["eth0"]);
    expect(status.snapshotCount).toBe(0);
  });

  test("a request above server.max_message_bytes is refused and the daemon keeps serving", async () => {
    const big = { vmId: newVmId(), spec: smallSpec("big", { labels: { k: "v" }, description: "x".repeat(100 * 1024) }) };
    const viaGrpc = await refusal(h.grpc.createVM(big));
    expect(viaGrpc?.code).toBe(Code.ResourceExhausted);
    const viaJson = await refusal(h.connect.createVM(big));
    expect(viaJson?.code).toBe(Code.ResourceExhausted);
    expect((await h.grpc.healthCheck({})).healthy).toBe(true);
    expect((await h.connect.healthCheck({})).healthy).toBe(true);
    expect(await refusal(h.grpc.getVMStatus({ vmId: big.vmId }))).toMatchObject({ code: Code.NotFound });
  });
});
