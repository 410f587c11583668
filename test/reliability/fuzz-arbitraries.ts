// fast-check generators for every NodeDaemonService request: mostly plausible values (a small
// pool of VM ids and names, paths inside the storage roots) with a fair chance of garbage in
// any field (wrong enums, huge numbers, paths outside the roots, control characters), so runs
// reach deep into the state machine and still probe every rule.

import fc from "fast-check";

export const VM_POOL = Array.from({ length: 5 }, (_, i) => `0000000${i}-1111-4222-8333-444444444444`);
const NAMES = ["alpha", "beta", "gamma", "delta", "web-1"];
const SNAPSHOTS = ["s1", "s2", "base"];
const DEVICE_IDS = ["root", "data", "eth0", "eth1"];

const garbageString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "..", "../../etc/passwd", "\u0000", "a".repeat(5000), "<x/>", "'; DROP", "\u202e"),
);
/** Mostly `good`, sometimes garbage of the same type. */
const mostly = <A, B>(good: fc.Arbitrary<A>, bad: fc.Arbitrary<B>): fc.Arbitrary<A | B> =>
  fc.oneof({ weight: 4, arbitrary: good as fc.Arbitrary<A | B> }, { weight: 1, arbitrary: bad as fc.Arbitrary<A | B> });

const u32 = fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 0xffffffff }));
const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 12n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const enumValue = (max: number) => mostly(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: 1000 }));

export const vmId = mostly(fc.constantFrom(...VM_POOL), fc.oneof(fc.uuid().map((u) => u.toLowerCase()), garbageString, fc.constantFrom(...VM_POOL).map((v) => v.toUpperCase())));
const name = mostly(fc.constantFrom(...NAMES), garbageString);
const snapshotName = mostly(fc.constantFrom(...SNAPSHOTS), garbageString);
const deviceId = mostly(fc.constantFrom(...DEVICE_IDS), garbageString);

const goodPath = (root: string) => fc.constantFrom(`${root}/a.qcow2`, `${root}/b.raw`, `${root}/cloud/base.qcow2`);
const badPath = (root: string) =>
  fc.oneof(fc.constantFrom("/etc/shadow", `${root}/../../etc/passwd`, "relative.img", "/dev/sda", `${root}-x/a.img`), garbageString);
const path = (root: string) => mostly(goodPath(root), badPath(root));

const goodDisk = (root: string) =>
  fc.record({
    id: fc.constantFrom("root", "data", "scratch"),
    source: fc.oneof(
      fc.record({ case: fc.constant("path" as const), value: goodPath(root) }),
      fc.record({
        case: fc.constant("newImage" as const),
        value: fc.record({ sizeBytes: fc.bigInt({ min: 1n << 20n, max: 1n << 36n }), format: fc.constantFrom(0, 1, 2) }),
      }),
    ),
    bus: fc.constantFrom(0, 1, 2),
    bootOrder: fc.constant(0),
    readonly: fc.boolean(),
    device: fc.constant(0),
  });

const badDisk = (root: string) =>
  fc.record({
    id: deviceId,
    source: fc.oneof(
      fc.record({ case: fc.constant("path" as const), value: path(root) }),
      fc.record({
        case: fc.constant("newImage" as const),
        value: fc.record({ sizeBytes: u64, format: enumValue(2), backingPath: fc.oneof(fc.constant(""), path(root)) }),
      }),
      fc.constant({ case: undefined }),
    ),
    bus: enumValue(4),
    bootOrder: u32,
    readonly: fc.boolean(),
    device: enumValue(2),
  });

const disk = (root: string) => mostly(goodDisk(root), badDisk(root));

const mac = mostly(
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }).map((o) => `52:54:00:${o.map((x) => x.toString(16).padStart(2, "0")).join(":")}`),
  fc.oneof(garbageString, fc.constantFrom("01:00:5e:00:00:01", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")),
);

const goodNic = fc.record({
  id: fc.constantFrom("eth0", "eth1", "eth2"),
  attachment: fc.oneof(
    fc.record({ case: fc.constant("bridge" as const), value: fc.constantFrom("br0", "virbr0") }),
    fc.record({ case: fc.constant("network" as const), value: fc.constantFrom("default", "lan") }),
  ),
  mac: fc.constant(""),
  model: fc.constantFrom(0, 1, 2),
});

const badNic = fc.record({
  id: deviceId,
  attachment: fc.oneof(
    fc.record({ case: fc.constant("bridge" as const), value: mostly(fc.constantFrom("br0", "virbr0"), garbageString) }),
    fc.record({ case: fc.constant("network" as const), value: mostly(fc.constantFrom("default", "lan"), garbageString) }),
    fc.constant({ case: undefined }),
  ),
  mac: fc.oneof(fc.constant(""), mac),
  model: enumValue(3),
});

const nic = mostly(goodNic, badNic);

const goodLabels = fc.dictionary(fc.constantFrom("tier", "app", "env"), fc.constantFrom("web", "db", ""), { maxKeys: 3 });
const labels = mostly(goodLabels, fc.dictionary(garbageString, garbageString, { maxKeys: 70 }));

/** A spec every rule accepts (disk and NIC ids may still collide: that is a rule too). */
const validSpec = (root: string) =>
  fc.record({
    name: fc.constantFrom(...NAMES),
    cpu: fc.record({ sockets: fc.constantFrom(0, 1, 2), coresPerSocket: fc.constantFrom(0, 1, 2), threadsPerCore: fc.constantFrom(0, 1), mode: fc.constantFrom(0, 1, 2) }),
    memory: fc.record({ sizeMib: fc.constantFrom(256n, 512n, 1024n), hugepages: fc.boolean() }),
    disks: fc.uniqueArray(goodDisk(root), { maxLength: 2, selector: (d) => d.id }),
    nics: fc.uniqueArray(goodNic, { maxLength: 2, selector: (n) => n.id }),
    firmware: fc.constantFrom(0, 1, 2),
    console: fc.record({ type: fc.constantFrom(0, 1, 2, 3), listen: fc.constantFrom("", "127.0.0.1") }),
    labels: goodLabels,
    description: fc.constantFrom("", "a test vm"),
  });

/** One field of a valid spec replaced by something that may break a rule. */
const mutations = (root: string): fc.Arbitrary<[string, unknown]>[] => [
  fc.tuple(fc.constant("name"), name),
  fc.tuple(fc.constant("cpu"), fc.record({ sockets: u32, coresPerSocket: u32, threadsPerCore: u32, mode: enumValue(3), model: fc.oneof(fc.constant(""), garbageString) })),
  fc.tuple(fc.constant("memory"), fc.record({ sizeMib: u64, hugepages: fc.boolean() })),
  fc.tuple(fc.constant("disks"), fc.array(disk(root), { maxLength: 4 })),
  fc.tuple(fc.constant("nics"), fc.array(nic, { maxLength: 4 })),
  fc.tuple(fc.constant("firmware"), enumValue(2)),
  fc.tuple(fc.constant("console"), fc.record({ type: enumValue(3), password: fc.oneof(fc.constant(""), fc.constantFrom("secret", "toolongpassword"), garbageString), listen: fc.oneof(fc.constant(""), garbageString) })),
  fc.tuple(fc.constant("hostDevices"), fc.array(fc.record({ pciAddress: mostly(fc.constantFrom("0000:01:00.0", "0000:41:00.1"), garbageString), disableRomBar: fc.boolean() }), { maxLength: 3 })),
  fc.tuple(fc.constant("labels"), labels),
  fc.tuple(fc.constant("description"), garbageString),
];

export const spec = (root: string) =>
  fc.oneof(
    { weight: 3, arbitrary: validSpec(root) },
    { weight: 2, arbitrary: fc.tuple(validSpec(root), fc.oneof(...mutations(root))).map(([s, [k, v]]) => ({ ...s, [k]: v })) },
  );

const migrationTarget = mostly(
  fc.constantFrom("qemu+tcp://node9.invalid/system", "qemu+ssh://node2.invalid/system", "qemu+tcp://node2.example/system"),
  fc.oneof(garbageString, fc.constantFrom("http://x/", "qemu+ssh://h/system?command=/bin/sh", "qemu+tcp://u:p@h/system", "qemu+tcp:///system")),
);

/** One RPC call: its method name and request. */
export type Call = { method: string; req: Record<string, unknown> };

const call = <T extends Record<string, unknown>>(method: string, req: fc.Arbitrary<T>) => req.map((r): Call => ({ method, req: r }));

export const anyCall = (root: string): fc.Arbitrary<Call> =>
  fc.oneof(
    call("healthCheck", fc.constant({})),
    call("getNodeInfo", fc.constant({})),
    { weight: 4, arbitrary: call("createVM", fc.record({ vmId, spec: fc.option(spec(root), { nil: undefined, freq: 8 }), start: fc.boolean() })) },
    { weight: 3, arbitrary: call("startVM", fc.record({ vmId })) },
    { weight: 2, arbitrary: call("stopVM", fc.record({ vmId, timeoutSeconds: mostly(fc.integer({ min: 0, max: 2 }), u32) })) },
    call("forceStopVM", fc.record({ vmId })),
    call("rebootVM", fc.record({ vmId })),
    call("pauseVM", fc.record({ vmId })),
    call("resumeVM", fc.record({ vmId })),
    call("deleteVM", fc.record({ vmId, deleteDisks: fc.boolean(), force: fc.boolean() })),
    call("getVMStatus", fc.record({ vmId })),
    call("listVMs", fc.record({ labelSelector: labels, states: fc.array(enumValue(7), { maxLength: 3 }), pageSize: mostly(fc.integer({ min: 0, max: 3 }), u32), pageToken: fc.oneof(fc.constant(""), garbageString) })),
    call("getConsole", fc.record({ vmId })),
    { weight: 2, arbitrary: call("createSnapshot", fc.record({ vmId, name: fc.oneof(fc.constant(""), snapshotName), description: fc.oneof(fc.constant(""), garbageString), includeMemory: fc.boolean(), quiesce: fc.boolean() })) },
    call("revertSnapshot", fc.record({ vmId, name: snapshotName })),
    call("deleteSnapshot", fc.record({ vmId, name: snapshotName })),
    call("listSnapshots", fc.record({ vmId })),
    call("migrateVM", fc.record({ vmId, targetUri: migrationTarget, live: fc.boolean(), maxDowntimeMs: mostly(fc.constant(0), u32), bandwidthMibPerS: mostly(fc.constant(0n), u64), copyStorage: fc.boolean() })),
    call("attachDisk", fc.record({ vmId, disk: fc.option(disk(root), { nil: undefined, freq: 8 }) })),
    call("detachDisk", fc.record({ vmId, diskId: deviceId })),
    call("attachNIC", fc.record({ vmId, nic: fc.option(nic, { nil: undefined, freq: 8 }) })),
    call("detachNIC", fc.record({ vmId, nicId: deviceId })),
    call("streamMetrics", fc.record({ intervalMs: mostly(fc.constantFrom(0, 250, 1000), u32), vmIds: fc.array(vmId, { maxLength: 3 }), nodeOnly: fc.boolean() })),
    call("streamEvents", fc.record({ afterEventId: mostly(fc.bigInt({ min: 0n, max: 50n }), u64), vmIds: fc.array(vmId, { maxLength: 3 }), types: fc.array(enumValue(15), { maxLength: 3 }) })),
  );
