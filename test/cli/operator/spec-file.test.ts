// The spec file reader in-process: the friendly shape maps onto CreateVMOnNodeRequest, the
// example in deploy/ is accepted as written, and every failure names the file and the field.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readSpecFile, requestFromObject } from "../../../src/cli/client/spec-file.ts";
import { BootDevice, CpuMode, DiskBus, DiskFormat, Firmware, NicModel } from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../../../src/cli/usage-error.ts";
import { ROOT } from "./helpers.ts";

const fromText = (file: string, text: string) => readSpecFile(file, () => text);

async function failure(file: string, text: string): Promise<string> {
  try {
    await fromText(file, text);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("expected the spec to be refused");
}

describe("the example spec", () => {
  test("deploy/vm-spec.example.yaml is accepted and means what its comments say", async () => {
    const req = await readSpecFile(join(ROOT, "deploy", "vm-spec.example.yaml"));
    expect(req.vmId).toBe("");
    expect(req.name).toBe("web-1");
    expect(req.labels).toEqual({ tier: "web", owner: "ops" });
    const spec = req.spec!;
    expect(spec).toMatchObject({
      cpuSockets: 1,
      cpuCores: 2,
      cpuThreadsPerCore: 1,
      // Left out in the example: the host CPU under KVM, QEMU's "maximum" under TCG.
      cpuMode: CpuMode.UNSPECIFIED,
      memoryMib: 2048n,
      memoryHugepages: false,
      firmware: Firmware.BIOS,
      guestOs: "debian",
      description: "Example web server",
      bootOrder: [],
    });
    expect(spec.disks).toHaveLength(1);
    expect(spec.disks[0]).toMatchObject({ id: "root", sizeGib: 10n, format: DiskFormat.QCOW2, bus: DiskBus.VIRTIO, bootable: true, path: "" });
    expect(spec.cdroms).toHaveLength(1);
    expect(spec.cdroms[0]).toMatchObject({ id: "installer", isoPath: "", bootable: false });
    expect(spec.nics).toHaveLength(1);
    expect(spec.nics[0]).toMatchObject({ id: "eth0", network: "default", bridge: "", model: NicModel.VIRTIO });
    expect(spec.console).toMatchObject({ vncEnabled: true, vncPassword: "s3cret", spiceEnabled: false });
    expect(spec.cloudInit?.userData).toStartWith("#cloud-config\nhostname: web-1\n");
    expect(spec.hostDevices).toEqual([]);
  });
});

describe("the friendly shape", () => {
  test("snake_case, camelCase, proto enum names and sizes with units mean the same", async () => {
    const snake = await requestFromObject({
      name: "a",
      cpu_cores: 2,
      cpu_mode: "host-model",
      memory_mib: 512,
      boot_order: ["cdrom", "disk"],
      disks: [{ id: "d", size_gib: 1, format: "raw", bus: "sata" }],
      cdroms: [{ id: "c", bootable: true }],
    });
    const camel = await requestFromObject({
      name: "a",
      cpuCores: 2,
      cpuMode: "CPU_MODE_HOST_MODEL",
      memoryMib: 512,
      bootOrder: ["BOOT_DEVICE_CDROM", "DISK"],
      disks: [{ id: "d", sizeGib: 1, format: "DISK_FORMAT_RAW", bus: "SATA" }],
      cdroms: [{ id: "c", bootable: true }],
    });
    const units = await requestFromObject({
      name: "a",
      cpu_cores: 2,
      cpu_mode: "host_model",
      memory: "512M",
      boot_order: ["cdrom", "disk"],
      disks: [{ id: "d", size: "1G", format: "raw", bus: "sata" }],
      cdroms: [{ id: "c", bootable: true }],
    });
    expect(camel).toEqual(snake);
    expect(units).toEqual(snake);
    expect(snake.spec?.bootOrder).toEqual([BootDevice.CDROM, BootDevice.DISK]);
  });

  test("the contract's zero values are choices too: virtio, qcow2, bios, disk", async () => {
    const req = await requestFromObject({
      name: "z",
      memory: "1G",
      firmware: "bios",
      boot_order: ["disk"],
      disks: [{ id: "d", size: "1G", bus: "virtio", format: "qcow2" }],
      nics: [{ model: "virtio" }],
    });
    expect(req.spec).toMatchObject({ firmware: Firmware.BIOS, bootOrder: [BootDevice.DISK], disks: [{ bus: DiskBus.VIRTIO, format: DiskFormat.QCOW2 }] });
  });

  test("disk sizes round up to whole GiB; memory must be whole MiB", async () => {
    expect((await requestFromObject({ name: "r", memory: "1.5G", disks: [{ id: "d", size: "1500M" }] })).spec).toMatchObject({
      memoryMib: 1536n,
      disks: [{ sizeGib: 2n }],
    });
  });

  test("vm_id, name and labels sit at the top; label keys are kept as written", async () => {
    const id = "0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11";
    const req = await requestFromObject({ vm_id: id, name: "a", memory: "256M", labels: { teamName: "x", "app.kubernetes.io/name": "y" } });
    expect(req.vmId).toBe(id);
    expect(req.labels).toEqual({ teamName: "x", "app.kubernetes.io/name": "y" });
  });

  test("YAML numbers where text is meant (a VNC password of digits) are read as text", async () => {
    expect((await fromText("a.yaml", "name: a\nmemory: 1G\nconsole: {vnc_enabled: true, vnc_password: 1234}\n")).spec?.console?.vncPassword).toBe("1234");
  });
});

describe("failures name the file and the field", () => {
  const cases: [string, string, string][] = [
    ["x.yaml", "name: a\nmemory: 1G\nfirmware: coreboot\n", 'x.yaml: firmware: must be one of bios, uefi; got string "coreboot"'],
    [
      "x.yaml",
      "name: a\nmemory: 1G\ndisks: [{id: d, size: 1G, bus: floppy}]\n",
      'x.yaml: disks[0].bus: must be one of virtio, scsi, sata, ide; got string "floppy"',
    ],
    ["x.yaml", "name: a\nmemory: 1G\ndisks:\n  - {id: root, size: 1G}\n  - {id: root, size: 1G}\n", 'x.yaml: disks[1].id: "root" is used by disks[0]'],
    ["x.yaml", "name: a\nmemory: 1.5K\n", "x.yaml: memory: must be a whole number of MiB"],
    ["x.yaml", "name: a\nmemory: lots\n", "x.yaml: memory: must be a size with a unit like 2G or 512M (or memory_mib: 2048)"],
    ["x.yaml", "name: a\nmemory: 2048\n", "x.yaml: memory: must be a size with a unit like 2G or 512M (or memory_mib: 2048); got number 2048"],
    ["x.yaml", "name: a\nmemory: {size: 1G}\n", "x.yaml: memory: must be a size with a unit"],
    ["x.yaml", "name: a\nmemory: 1G\ndisks: [{id: d, size: 10}]\n", "x.yaml: disks[0].size: must be a size with a unit like 10G or 500M (or size_gib: 10)"],
    ["x.yaml", "name: a\nmemory: 1G\ncpu_sockets: -1\n", "x.yaml: cpu_sockets: must be a whole number >= 0"],
    ["x.yaml", "name: a\nmemory: 1G\ncpu: {sockets: 1}\n", "x.yaml: cpu: unknown field; known fields here: vm_id, name, labels, cpu_cores, cpu_sockets"],
    ["x.yaml", "name: a\nmemory: 1G\nstart: true\n", "x.yaml: start: unknown field"],
    ["x.yaml", "name: a\nmemory: 1G\ndisks: [{id: d, size: 1G, target: vda}]\n", "x.yaml: disks[0].target: is filled in by the node (output only)"],
    ["x.yaml", "name: bad name\nmemory: 1G\n", "x.yaml: name: must use only A-Z a-z 0-9 . _ -"],
    // The API's rules name the fields as the file has them (CD-ROMs and disks counted apart).
    [
      "x.yaml",
      "name: a\nmemory: 1G\ndisks: [{id: d, size: 1G}]\ncdroms: [{id: c}, {id: cloud-init}]\n",
      'x.yaml: cdroms[1].id: "cloud-init" is the id of the node\'s cloud-init CD-ROM',
    ],
    ["x.yaml", "name: a\nmemory: 1G\nconsole: {vnc_enabled: true, vnc_password: 123456789}\n", "x.yaml: console.vnc_password: must be at most 8 characters"],
    ["x.yaml", "name: a\nmemory_mib: 1\n", "x.yaml: memory_mib: must be between 64 and"],
    ["x.yaml", "vm_id: not-a-uuid\nname: a\nmemory: 1G\n", "x.yaml: vm_id: must be a lowercase UUID"],
    ["x.yaml", "- a\n- b\n", "x.yaml: the spec must be a mapping of fields (name: web-1, memory: 2G, ...); got a list"],
    ["x.yaml", "name: a\nmemory: 1G\nmemory_mib: 1024\n", "x.yaml: memory_mib: is given twice (as memory and memory_mib)"],
    ["x.json", '{"name": ', "x.json: not valid JSON"],
    ["x.yaml", "name: [a\n", "x.yaml:2:1: not valid YAML"],
    ["x.yaml", "", "x.yaml: the file is empty"],
  ];
  test.each(cases)("%s %#", async (file, text, message) => {
    expect(await failure(file, text)).toStartWith(message);
  });
});
