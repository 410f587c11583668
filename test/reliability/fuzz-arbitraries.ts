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

export const vmId = mostly(
  fc.constantFrom(...VM_POOL),
  fc.oneof(
    fc.uuid().map((u) => u.toLowerCase()),
    garbageString,
    fc.constantFrom(...VM_POOL).map((v) => v.toUpperCase()),
  ),
);
const name = mostly(fc.constantFrom(...NAMES), garbageString);
const snapshotName = mostly(fc.constantFrom(...SNAPSHOTS), garbageString);
const deviceId = mostly(fc.constantFrom(...DEVICE_IDS), garbageString);

const goodPath = (root: string) => fc.constantFrom(`${root}/a.qcow2`, `${root}/b.raw`, `${root}/cloud/base.qcow2`);
const badPath = (root: string) =>
  fc.oneof(fc.constantFrom("/etc/shadow", `${root}/../../etc/passwd`, "relative.img", "images/a.qcow2", "/dev/sda", `${root}-x/a.img`), garbageString);
const path = (root: string) => mostly(goodPath(root), badPath(root));
/** A disk's path: absolute, a volume name of the pool, or nothing (a new image). */
const diskPath = (root: string) => fc.oneof(goodPath(root), fc.constantFrom("", "", "vol-a", "vol-b.qcow2"));

const goodDisk = (root: string) =>
  fc.oneof(
    fc.record({
      id: fc.constantFrom("root", "data", "scratch"),
      path: goodPath(root),
      bus: fc.constantFrom(0, 1, 2, 3, 4),
      format: fc.constantFrom(0, 1),
      readonly: fc.boolean(),
      bootable: fc.boolean(),
    }),
    fc.record({
      id: fc.constantFrom("root", "data", "scratch", ""),
      path: fc.constantFrom("", "vol-a"),
      sizeGib: fc.bigInt({ min: 1n, max: 64n }),
      bus: fc.constantFrom(0, 1, 2, 3, 4),
      format: fc.constantFrom(0, 1),
      bootable: fc.boolean(),
      poolId: fc.constantFrom("", "default"),
    }),
  );

const badDisk = (root: string) =>
  fc.record({
    id: fc.oneof(fc.constant(""), deviceId),
    path: fc.oneof(diskPath(root), path(root)),
    sizeGib: u64,
    bus: enumValue(5),
    format: enumValue(2),
    readonly: fc.boolean(),
    bootable: fc.boolean(),
    iopsLimit: u64,
    throughputMbps: u64,
    backingFile: fc.oneof(fc.constant(""), fc.constantFrom("base", "cloud/base.qcow2"), path(root)),
    poolId: fc.oneof(fc.constant(""), fc.constantFrom("default", "p1", "missing"), garbageString),
  });

const disk = (root: string) => mostly(goodDisk(root), badDisk(root));

const isoPath = (root: string) =>
  mostly(
    fc.constantFrom("", "iso/debian.iso", "debian.iso", `${root}/iso/debian.iso`),
    fc.oneof(path(root), fc.constantFrom("../../etc/passwd", "iso/missing.iso")),
  );

const cdrom = (root: string) =>
  fc.record({ id: fc.oneof(fc.constantFrom("", "cd0", "cd1"), deviceId, fc.constant("cloud-init")), isoPath: isoPath(root), bootable: fc.boolean() });

const mac = mostly(
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }).map((o) => `52:54:00:${o.map((x) => x.toString(16).padStart(2, "0")).join(":")}`),
  fc.oneof(garbageString, fc.constantFrom("01:00:5e:00:00:01", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")),
);

/** Networks as operators name them and as the control plane sends its ids. */
const network = fc.constantFrom("", "default", "lan", "net-prod", "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20");

const goodNic = fc.oneof(
  fc.record({ id: fc.constantFrom("eth0", "eth1", "eth2"), bridge: fc.constantFrom("br0", "virbr0"), model: fc.constantFrom(0, 1, 2, 3) }),
  fc.record({ id: fc.constantFrom("eth0", "eth1", "eth2", ""), network, model: fc.constantFrom(0, 1, 2, 3) }),
);

const badNic = fc.record({
  id: fc.oneof(fc.constant(""), deviceId),
  bridge: fc.oneof(fc.constant(""), mostly(fc.constantFrom("br0", "virbr0"), garbageString)),
  network: fc.oneof(network, garbageString),
  macAddress: fc.oneof(fc.constant(""), mac),
  model: enumValue(4),
  bandwidthMbps: u64,
});

const nic = mostly(goodNic, badNic);

const goodLabels = fc.dictionary(fc.constantFrom("tier", "app", "env"), fc.constantFrom("web", "db", ""), { maxKeys: 3 });
const labels = mostly(goodLabels, fc.dictionary(garbageString, garbageString, { maxKeys: 70 }));

const console_ = fc.option(fc.record({ vncEnabled: fc.boolean(), spiceEnabled: fc.constant(false), listen: fc.constantFrom("", "127.0.0.1", "0.0.0.0") }), {
  nil: undefined,
});

/** A spec every rule accepts (disk and NIC ids may still collide: that is a rule too). */
const validSpec = (root: string) =>
  fc.record({
    cpuSockets: fc.constantFrom(0, 1, 2),
    cpuCores: fc.constantFrom(0, 1, 2),
    cpuThreadsPerCore: fc.constantFrom(0, 1),
    cpuMode: fc.constantFrom(0, 1, 2),
    memoryMib: fc.constantFrom(256n, 512n, 1024n),
    memoryHugepages: fc.boolean(),
    firmware: fc.constantFrom(0, 1),
    bootOrder: fc.array(fc.constantFrom(0, 1, 2), { maxLength: 3 }),
    disks: fc.uniqueArray(goodDisk(root), { maxLength: 2, selector: (d) => d.id }),
    nics: fc.uniqueArray(goodNic, { maxLength: 2, selector: (n) => n.id }),
    cdroms: fc.uniqueArray(fc.record({ id: fc.constantFrom("cd0", "cd1"), isoPath: fc.constant(""), bootable: fc.boolean() }), {
      maxLength: 2,
      selector: (c) => c.id,
    }),
    console: console_,
    guestOs: fc.constantFrom("", "debian", "windows_server", "unknown_os"),
    description: fc.constantFrom("", "a test vm"),
  });

/** One field of a valid spec replaced by something that may break a rule. */
const mutations = (root: string): fc.Arbitrary<[string, unknown]>[] => [
  fc.tuple(fc.constant("cpuSockets"), u32),
  fc.tuple(fc.constant("cpuCores"), u32),
  fc.tuple(fc.constant("cpuThreadsPerCore"), u32),
  fc.tuple(fc.constant("cpuMode"), enumValue(5)),
  fc.tuple(fc.constant("cpuModel"), fc.oneof(fc.constant(""), garbageString)),
  fc.tuple(fc.constant("memoryMib"), u64),
  fc.tuple(fc.constant("firmware"), enumValue(2)),
  fc.tuple(fc.constant("bootOrder"), fc.array(enumValue(3), { maxLength: 4 })),
  fc.tuple(fc.constant("disks"), fc.array(disk(root), { maxLength: 4 })),
  fc.tuple(fc.constant("cdroms"), fc.array(cdrom(root), { maxLength: 3 })),
  fc.tuple(fc.constant("nics"), fc.array(nic, { maxLength: 4 })),
  fc.tuple(
    fc.constant("console"),
    fc.record({
      vncEnabled: fc.boolean(),
      spiceEnabled: fc.boolean(),
      vncPort: u32,
      vncPassword: fc.oneof(fc.constant(""), fc.constantFrom("secret", "toolongpassword"), garbageString),
      listen: fc.oneof(fc.constant(""), garbageString),
    }),
  ),
  fc.tuple(
    fc.constant("cloudInit"),
    fc.record({ userData: fc.oneof(fc.constant("#cloud-config\n"), garbageString), metaData: fc.oneof(fc.constant(""), garbageString) }),
  ),
  fc.tuple(
    fc.constant("hostDevices"),
    fc.array(fc.record({ pciAddress: mostly(fc.constantFrom("0000:01:00.0", "0000:41:00.1"), garbageString), disableRomBar: fc.boolean() }), { maxLength: 3 }),
  ),
  fc.tuple(fc.constant("guestOs"), garbageString),
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

export const POOLS = ["default", "p1", "p2"];
const poolId = mostly(fc.constantFrom(...POOLS), fc.oneof(fc.constant(""), garbageString));

/**
 * A local pool's directory: the pools folder (empty), one under the storage path, or paths the
 * rules refuse. Never an arbitrary absolute path: the mock creates the directory for real.
 */
const poolPath = (root: string) => fc.constantFrom("", "", `${root}/pools-fuzz/a`, `${root}/pools-fuzz/b`, "relative/dir", `${root}/../escape`);

/** One RPC call: its method name and request. */
export type Call = { method: string; req: Record<string, unknown> };

const call = <T extends Record<string, unknown>>(method: string, req: fc.Arbitrary<T>) => req.map((r): Call => ({ method, req: r }));

export const anyCall = (root: string): fc.Arbitrary<Call> =>
  fc.oneof(
    call("healthCheck", fc.constant({})),
    call("getNodeInfo", fc.constant({})),
    {
      weight: 4,
      arbitrary: call("createVM", fc.record({ vmId, name, spec: fc.option(spec(root), { nil: undefined, freq: 8 }), labels, start: fc.boolean() })),
    },
    { weight: 3, arbitrary: call("startVM", fc.record({ vmId })) },
    { weight: 2, arbitrary: call("stopVM", fc.record({ vmId, timeoutSeconds: mostly(fc.integer({ min: 0, max: 2 }), u32) })) },
    call("forceStopVM", fc.record({ vmId })),
    call("rebootVM", fc.record({ vmId })),
    call("pauseVM", fc.record({ vmId })),
    call("resumeVM", fc.record({ vmId })),
    call("deleteVM", fc.record({ vmId, deleteDisks: fc.boolean(), force: fc.boolean() })),
    call("getVMStatus", fc.record({ vmId })),
    call(
      "listVMs",
      fc.record({
        labelSelector: labels,
        states: fc.array(enumValue(5), { maxLength: 3 }),
        pageSize: mostly(fc.integer({ min: 0, max: 3 }), u32),
        pageToken: fc.oneof(fc.constant(""), garbageString),
      }),
    ),
    call("getConsole", fc.record({ vmId })),
    {
      weight: 2,
      arbitrary: call(
        "createSnapshot",
        fc.record({
          vmId,
          name: fc.oneof(fc.constant(""), snapshotName),
          description: fc.oneof(fc.constant(""), garbageString),
          includeMemory: fc.boolean(),
          quiesce: fc.boolean(),
        }),
      ),
    },
    call("revertSnapshot", fc.record({ vmId, snapshotId: snapshotName })),
    call("deleteSnapshot", fc.record({ vmId, snapshotId: snapshotName })),
    call("listSnapshots", fc.record({ vmId })),
    call(
      "migrateVM",
      fc.record({
        vmId,
        targetNodeUri: migrationTarget,
        live: fc.boolean(),
        maxDowntimeMs: mostly(fc.constant(0), u32),
        bandwidthMibPerS: mostly(fc.constant(0n), u64),
        storage: fc.boolean(),
      }),
    ),
    call("attachDisk", fc.record({ vmId, disk: fc.option(disk(root), { nil: undefined, freq: 8 }) })),
    call("detachDisk", fc.record({ vmId, diskId: deviceId })),
    call("attachNIC", fc.record({ vmId, nic: fc.option(nic, { nil: undefined, freq: 8 }) })),
    call("detachNIC", fc.record({ vmId, nicId: deviceId })),
    call(
      "changeMedia",
      fc.record({
        vmId,
        device: fc.oneof(fc.constantFrom("", "sda", "sdb", "sdc", "sdz"), garbageString),
        isoPath: isoPath(root),
        cdromId: fc.oneof(fc.constantFrom("", "", "cdrom-0", "cd0"), deviceId),
      }),
    ),
    call(
      "streamMetrics",
      fc.record({
        intervalSeconds: mostly(fc.constantFrom(0, 1), u32),
        intervalMs: mostly(fc.constantFrom(0, 250, 1000), u32),
        vmIds: fc.array(vmId, { maxLength: 3 }),
        nodeOnly: fc.boolean(),
      }),
    ),
    call(
      "streamEvents",
      fc.record({
        afterSequence: mostly(fc.bigInt({ min: 0n, max: 50n }), u64),
        fromOldest: fc.boolean(),
        vmIds: fc.array(vmId, { maxLength: 3 }),
        types: fc.array(mostly(fc.oneof(fc.integer({ min: 0, max: 17 }), fc.integer({ min: 100, max: 107 })), fc.integer({ min: 0, max: 1000 })), {
          maxLength: 3,
        }),
      }),
    ),
    call(
      "initStoragePool",
      fc.record({ poolId, type: enumValue(6), config: fc.option(fc.record({ local: fc.record({ path: poolPath(root) }) }), { nil: undefined }) }),
    ),
    call("getStoragePoolInfo", fc.record({ poolId })),
    call("listStoragePools", fc.constant({})),
    call(
      "listStoragePoolFiles",
      fc.record({ poolId, path: mostly(fc.constantFrom("", "iso", "pools-fuzz"), fc.oneof(garbageString, fc.constantFrom("..", "/etc", "iso/../.."))) }),
    ),
    call(
      "resizeVolume",
      fc.record({
        poolId: fc.oneof(fc.constant(""), poolId),
        volumeId: mostly(fc.constantFrom("root", "data", "vol-a"), garbageString),
        newSizeBytes: mostly(fc.bigInt({ min: 1n << 30n, max: 1n << 37n }), u64),
      }),
    ),
  );
