import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { withDefaults } from "../../src/hypervisor/defaults.ts";
import { HypervisorError, isHypervisorError } from "../../src/hypervisor/errors.ts";
import type { DiskSpec, NicSpec, VmSpec } from "../../src/hypervisor/types.ts";
import {
  validateDiskSpec,
  validateMigrationUri,
  validateNicSpec,
  validateSnapshotName,
  validateVmId,
  validateVmSpec,
} from "../../src/hypervisor/validation.ts";

function valid(): VmSpec {
  return withDefaults({
    name: "web-01.prod_a",
    cpu: { sockets: 2, coresPerSocket: 4, threadsPerCore: 2 },
    memoryMib: 8192,
    disks: [
      { id: "root", newImage: { sizeBytes: 20 * 2 ** 30, format: "qcow2", backingPath: "/var/lib/images/debian-12.qcow2" }, bootOrder: 1 },
      { id: "data-1", path: "/var/lib/limiquantix/vms/data.raw" },
      { id: "iso", path: "/var/lib/iso/debian.iso", device: "cdrom", bootOrder: 2 },
    ],
    nics: [
      { id: "eth0", bridge: "br0", mac: "52:54:00:12:34:56" },
      { id: "eth1", network: "default", model: "e1000" },
    ],
    firmware: "uefi",
    console: { type: "vnc", password: "12345678", listen: "0.0.0.0" },
    hostDevices: [{ pciAddress: "0000:01:00.0" }, { pciAddress: "0000:81:1f.7", romBar: false }],
    labels: { "app.kubernetes.io/name": "web", tier: "frontend", empty: "" },
    description: "line one\n\tline two",
  });
}

type Row = [rule: string, mutate: (s: any) => void, field: string, message?: string];

const rows: Row[] = [
  ["name empty", (s) => (s.name = ""), "spec.name", "must be set"],
  ["name too long", (s) => (s.name = "a".repeat(65)), "spec.name", "at most 64"],
  ["name with a space", (s) => (s.name = "web 1"), "spec.name", "A-Z a-z 0-9"],
  ["name starting with -", (s) => (s.name = "-web"), "spec.name", "not start with"],
  ["name starting with .", (s) => (s.name = ".web"), "spec.name"],
  ["name with a slash", (s) => (s.name = "a/b"), "spec.name"],
  ["name not a string", (s) => (s.name = 5), "spec.name", "must be a string"],
  ["cpu missing", (s) => delete s.cpu, "spec.cpu", "must be an object"],
  ["sockets 0", (s) => (s.cpu.sockets = 0), "spec.cpu.sockets", "between 1 and 512, got 0"],
  ["cores fractional", (s) => (s.cpu.coresPerSocket = 1.5), "spec.cpu.cores_per_socket", "integer"],
  ["threads 0", (s) => (s.cpu.threadsPerCore = 0), "spec.cpu.threads_per_core"],
  ["too many vcpus", (s) => Object.assign(s.cpu, { sockets: 8, coresPerSocket: 33, threadsPerCore: 2 }), "spec.cpu", "at most 512 vCPUs, got 528"],
  ["unknown cpu mode", (s) => (s.cpu.mode = "max"), "spec.cpu.mode", "host-passthrough, host-model, custom"],
  ["custom without model", (s) => (s.cpu.mode = "custom"), "spec.cpu.model", "must be set when mode is custom"],
  ["custom with a bad model", (s) => Object.assign(s.cpu, { mode: "custom", model: "Sky lake" }), "spec.cpu.model"],
  ["model without custom", (s) => (s.cpu.model = "EPYC"), "spec.cpu.model", "must be empty unless"],
  ["memory 0", (s) => (s.memoryMib = 0), "spec.memory.size_mib", "must be between 64 and 16777216, got 0"],
  ["memory above 16 TiB", (s) => (s.memoryMib = 16 * 2 ** 20 + 1), "spec.memory.size_mib"],
  ["memory odd with hugepages", (s) => Object.assign(s, { memoryMib: 1025, hugepages: true }), "spec.memory.size_mib", "multiple of 2"],
  ["hugepages not boolean", (s) => (s.hugepages = "yes"), "spec.memory.hugepages"],
  ["65 disks", (s) => (s.disks = Array.from({ length: 65 }, (_, i) => ({ ...s.disks[1], id: `d${i}`, path: `/d/${i}` }))), "spec.disks", "at most 64 disks are allowed, got 65"],
  ["disks not a list", (s) => (s.disks = {}), "spec.disks", "must be a list"],
  ["disk id empty", (s) => (s.disks[0].id = ""), "spec.disks[0].id", "must be set"],
  ["disk id uppercase", (s) => (s.disks[0].id = "Root"), "spec.disks[0].id", "a-z 0-9"],
  ["disk id 33 chars", (s) => (s.disks[0].id = "a".repeat(33)), "spec.disks[0].id"],
  ["duplicate disk id", (s) => (s.disks[1].id = "root"), "spec.disks[1].id", '"root" is used by disks[0]'],
  ["disk with path and image", (s) => (s.disks[0].path = "/x"), "spec.disks[0].source", "exactly one of path and new_image"],
  ["disk with neither", (s) => delete s.disks[1].path, "spec.disks[1].source"],
  ["relative path", (s) => (s.disks[1].path = "images/a.raw"), "spec.disks[1].path", "absolute"],
  ["path with ..", (s) => (s.disks[1].path = "/var/lib/../../etc/shadow"), "spec.disks[1].path", "'..'"],
  ["path with NUL", (s) => (s.disks[1].path = "/var/a\0b"), "spec.disks[1].path", "NUL"],
  ["path too long", (s) => (s.disks[1].path = `/${"a".repeat(4096)}`), "spec.disks[1].path", "at most 4096"],
  ["duplicate writable path", (s) => (s.disks[0] = { ...s.disks[1], id: "other" }), "spec.disks[1].path", "is used by disks[0]"],
  ["image too small", (s) => (s.disks[0].newImage.sizeBytes = 1024), "spec.disks[0].new_image.size_bytes", "between 1048576"],
  ["image above 64 TiB", (s) => (s.disks[0].newImage.sizeBytes = 64 * 2 ** 40 + 1), "spec.disks[0].new_image.size_bytes"],
  ["image size not integer", (s) => (s.disks[0].newImage.sizeBytes = 2 ** 20 + 0.5), "spec.disks[0].new_image.size_bytes"],
  ["image format", (s) => (s.disks[0].newImage.format = "vmdk"), "spec.disks[0].new_image.format", "qcow2, raw"],
  ["backing with raw", (s) => (s.disks[0].newImage.format = "raw"), "spec.disks[0].new_image.backing_path", "only allowed for format qcow2"],
  ["backing relative", (s) => (s.disks[0].newImage.backingPath = "base.qcow2"), "spec.disks[0].new_image.backing_path", "absolute"],
  ["bus", (s) => (s.disks[0].bus = "nvme"), "spec.disks[0].bus", "virtio, scsi, sata, ide"],
  ["device", (s) => (s.disks[0].device = "floppy"), "spec.disks[0].device"],
  ["boot order negative", (s) => (s.disks[0].bootOrder = -1), "spec.disks[0].boot_order"],
  ["duplicate boot order", (s) => (s.disks[1].bootOrder = 1), "spec.disks[1].boot_order", "1 is used by disks[0]"],
  ["readonly not boolean", (s) => (s.disks[1].readonly = 1), "spec.disks[1].readonly"],
  ["cdrom writable", (s) => (s.disks[2].readonly = false), "spec.disks[2].readonly", "must be true for a cdrom"],
  ["cdrom on virtio", (s) => (s.disks[2].bus = "virtio"), "spec.disks[2].bus", "sata, scsi or ide"],
  ["cdrom as new image", (s) => Object.assign(s.disks[0], { device: "cdrom", readonly: true, bus: "sata" }), "spec.disks[0].new_image", "existing path"],
  ["33 nics", (s) => (s.nics = Array.from({ length: 33 }, (_, i) => ({ id: `n${i}`, bridge: "br0", model: "virtio" }))), "spec.nics", "at most 32 NICs are allowed, got 33"],
  ["nic id", (s) => (s.nics[0].id = "eth 0"), "spec.nics[0].id"],
  ["duplicate nic id", (s) => (s.nics[1].id = "eth0"), "spec.nics[1].id", '"eth0" is used by nics[0]'],
  ["nic with bridge and network", (s) => (s.nics[0].network = "default"), "spec.nics[0].attachment", "exactly one of bridge and network"],
  ["nic with neither", (s) => delete s.nics[0].bridge, "spec.nics[0].attachment"],
  ["bridge of 16 chars", (s) => (s.nics[0].bridge = "b".repeat(16)), "spec.nics[0].bridge", "at most 15"],
  ["bridge with a colon", (s) => (s.nics[0].bridge = "br0:1"), "spec.nics[0].bridge", "no '/', ':' or spaces"],
  ["bridge ..", (s) => (s.nics[0].bridge = ".."), "spec.nics[0].bridge"],
  ["network name", (s) => (s.nics[1].network = "my net"), "spec.nics[1].network"],
  ["mac format", (s) => (s.nics[0].mac = "52-54-00-12-34-56"), "spec.nics[0].mac", "52:54:00:12:34:56"],
  ["mac multicast", (s) => (s.nics[0].mac = "01:00:5e:00:00:01"), "spec.nics[0].mac", "unicast"],
  ["mac zero", (s) => (s.nics[0].mac = "00:00:00:00:00:00"), "spec.nics[0].mac", "all zeros"],
  ["duplicate mac", (s) => (s.nics[1].mac = "52:54:00:12:34:56"), "spec.nics[1].mac", "is used by nics[0]"],
  ["nic model", (s) => (s.nics[0].model = "vmxnet3"), "spec.nics[0].model", "virtio, e1000, rtl8139"],
  ["firmware", (s) => (s.firmware = "coreboot"), "spec.firmware", "bios, uefi"],
  ["console type", (s) => (s.console.type = "rdp"), "spec.console.type"],
  ["vnc password of 9", (s) => (s.console.password = "123456789"), "spec.console.password", "at most 8 characters for vnc"],
  ["password without console", (s) => (s.console = { type: "none", password: "x" }), "spec.console.password", "console type is none"],
  ["console listen", (s) => (s.console.listen = "localhost"), "spec.console.listen", "IPv4 or IPv6"],
  ["17 host devices", (s) => (s.hostDevices = Array.from({ length: 17 }, (_, i) => ({ pciAddress: `0000:${(i + 16).toString(16)}:00.0`, romBar: true }))), "spec.host_devices", "at most 16"],
  ["pci short form", (s) => (s.hostDevices[0].pciAddress = "01:00.0"), "spec.host_devices[0].pci_address", "DDDD:BB:SS.F"],
  ["pci function 8", (s) => (s.hostDevices[0].pciAddress = "0000:01:00.8"), "spec.host_devices[0].pci_address"],
  ["pci slot 0x20", (s) => (s.hostDevices[0].pciAddress = "0000:01:20.0"), "spec.host_devices[0].pci_address"],
  ["duplicate pci", (s) => (s.hostDevices[1].pciAddress = "0000:01:00.0"), "spec.host_devices[1].pci_address", "is used by host_devices[0]"],
  ["rom bar", (s) => (s.hostDevices[0].romBar = "on"), "spec.host_devices[0].rom_bar"],
  ["65 labels", (s) => (s.labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]))), "spec.labels", "at most 64 labels"],
  ["label key too long", (s) => (s.labels["k".repeat(64)] = "v"), `spec.labels["${"k".repeat(40)}..."]`, "key must be 1-63"],
  ["label key with a space", (s) => (s.labels["a b"] = "v"), 'spec.labels["a b"]'],
  ["label key empty", (s) => (s.labels[""] = "v"), 'spec.labels[""]'],
  ["label value too long", (s) => (s.labels.tier = "v".repeat(257)), 'spec.labels["tier"]', "at most 256"],
  ["label value with a newline", (s) => (s.labels.tier = "a\nb"), 'spec.labels["tier"]', "control characters"],
  ["label value not a string", (s) => (s.labels.tier = 3), 'spec.labels["tier"]'],
  ["description too long", (s) => (s.description = "d".repeat(4097)), "spec.description"],
  ["description with a bell", (s) => (s.description = "ding\u0007"), "spec.description", "control characters"],
];

describe("validateVmSpec", () => {
  test("accepts a full valid spec", () => {
    expect(() => validateVmSpec(valid())).not.toThrow();
  });

  // Padded: with fewer row items than parameters, bun passes a done callback in their place.
  test.each(rows.map(([rule, mutate, field, message]) => [rule, mutate, field, message ?? ""] as const))("%s", (_rule, mutate, field, message) => {
    const spec = valid();
    mutate(spec);
    let error: unknown;
    try {
      validateVmSpec(spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HypervisorError);
    const e = error as HypervisorError;
    expect(e.kind).toBe("invalid_argument");
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    if (message) expect(e.message).toContain(message);
  });

  test("the path prefix is configurable", () => {
    const spec = valid();
    spec.memoryMib = 1;
    expect(() => validateVmSpec(spec, "req.spec")).toThrow("req.spec.memory.size_mib: must be between 64 and 16777216, got 1");
  });

  test("not an object at all", () => {
    expect(() => validateVmSpec(null as unknown as VmSpec)).toThrow("spec: must be an object, got null");
  });
});

describe("device and id checks", () => {
  const disk: DiskSpec = { id: "data", path: "/img/data.qcow2", bus: "scsi", bootOrder: 0, readonly: false, device: "disk" };
  const nic: NicSpec = { id: "eth1", network: "default", model: "virtio" };

  test("hot-plug devices are reported under disk.* and nic.*", () => {
    expect(() => validateDiskSpec(disk)).not.toThrow();
    expect(() => validateNicSpec(nic)).not.toThrow();
    expect(() => validateDiskSpec({ ...disk, path: "rel" })).toThrow("disk.path: must be an absolute path");
    expect(() => validateNicSpec({ ...nic, mac: "ff:ff:ff:ff:ff:ff" })).toThrow("nic.mac: must be a unicast address");
  });

  test("vm ids are canonical lowercase UUIDs", () => {
    expect(() => validateVmId("2f1c4e8a-0b6d-4c3e-9a51-7d2e8f0a1b3c")).not.toThrow();
    for (const bad of ["", "2F1C4E8A-0B6D-4C3E-9A51-7D2E8F0A1B3C", "2f1c4e8a0b6d4c3e9a517d2e8f0a1b3c", "{2f1c4e8a-0b6d-4c3e-9a51-7d2e8f0a1b3c}", 42]) {
      expect(() => validateVmId(bad)).toThrow(/^vm_id: /);
    }
    expect(() => validateVmId("00000000-0000-0000-0000-000000000000")).toThrow("nil UUID");
  });

  test("snapshot names and migration URIs", () => {
    expect(validateSnapshotName("before-upgrade")).toBe("before-upgrade");
    expect(() => validateSnapshotName("a/b")).toThrow(/^name: /);
    expect(validateMigrationUri("qemu+ssh://root@node-2.example:2222/system").hostname).toBe("node-2.example");
    for (const bad of ["node-2", "http://node-2/system", "qemu+tcp:///system", ""]) {
      expect(() => validateMigrationUri(bad)).toThrow(/^target_uri: /);
    }
  });
});

describe("properties", () => {
  const specFields = ["name", "cpu", "memoryMib", "hugepages", "disks", "nics", "firmware", "console", "hostDevices", "labels", "description"];

  // Starts from a valid spec and overwrites random paths with arbitrary values, so both
  // plausible and absurd inputs reach every rule.
  const mutation = fc.record({
    path: fc.array(fc.oneof(fc.constantFrom(...specFields, "sockets", "id", "path", "newImage", "sizeBytes", "mac", "bridge", "pciAddress", "type", "password"), fc.nat(4)), { minLength: 1, maxLength: 3 }),
    value: fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.double(), fc.constant(undefined), fc.constant(null)),
  });

  test("random specs only ever fail with invalid_argument and a spec field", () => {
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 4 }), (mutations) => {
        const spec = valid() as unknown as Record<string | number, unknown>;
        for (const { path, value } of mutations) {
          let target: unknown = spec;
          for (const key of path.slice(0, -1)) {
            if (typeof target !== "object" || target === null) break;
            target = (target as Record<string | number, unknown>)[key];
          }
          if (typeof target === "object" && target !== null) (target as Record<string | number, unknown>)[path.at(-1) as string | number] = value;
        }
        try {
          validateVmSpec(spec as unknown as VmSpec);
        } catch (err) {
          if (!isHypervisorError(err)) throw err;
          expect(err.kind).toBe("invalid_argument");
          expect(err.field).toMatch(/^spec(\.|$)/);
          expect(err.message.startsWith(`${err.field}: `)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("fully random values never escape as anything but invalid_argument", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        try {
          validateVmSpec(value as VmSpec);
        } catch (err) {
          if (!isHypervisorError(err)) throw err;
          expect(err.kind).toBe("invalid_argument");
        }
      }),
    );
  });

  test("well-formed random specs are accepted", () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,31}$/);
    const arbitrarySpec = fc.record({
      name: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/),
      sockets: fc.integer({ min: 1, max: 8 }),
      cores: fc.integer({ min: 1, max: 32 }),
      threads: fc.integer({ min: 1, max: 2 }),
      memoryMib: fc.integer({ min: 64, max: 16 * 2 ** 20 }),
      diskIds: fc.uniqueArray(id, { maxLength: 64 }),
      nicIds: fc.uniqueArray(id, { maxLength: 32 }),
      labels: fc.dictionary(fc.stringMatching(/^[A-Za-z0-9._/-]{1,63}$/), fc.stringMatching(/^[ -~]{0,256}$/), { maxKeys: 64 }),
    });
    fc.assert(
      fc.property(arbitrarySpec, (a) => {
        const spec = withDefaults({
          name: a.name,
          cpu: { sockets: a.sockets, coresPerSocket: a.cores, threadsPerCore: a.threads },
          memoryMib: a.memoryMib,
          disks: a.diskIds.map((d, i) => (i % 2 ? { id: d, newImage: { sizeBytes: 2 ** 20 * (i + 1) } } : { id: d, path: `/img/${i}` })),
          nics: a.nicIds.map((nicId) => ({ id: nicId, bridge: "br0" })),
          labels: a.labels,
        });
        validateVmSpec(spec);
      }),
      { numRuns: 300 },
    );
  });
});
