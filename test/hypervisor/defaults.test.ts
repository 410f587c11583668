import { describe, expect, test } from "bun:test";
import { generateMac, specsEqual, withDefaults } from "../../src/hypervisor/defaults.ts";
import { validateVmSpec } from "../../src/hypervisor/validation.ts";

describe("withDefaults", () => {
  test("fills every default and the result validates", () => {
    const spec = withDefaults({
      name: "web-1",
      memoryMib: 2048,
      disks: [
        { id: "root", newImage: { sizeBytes: 2 ** 30 } },
        { id: "iso", path: "/iso/a.iso", device: "cdrom" },
      ],
      nics: [{ id: "eth0", bridge: "br0" }],
    });
    expect(spec).toEqual({
      name: "web-1",
      cpu: { sockets: 1, coresPerSocket: 1, threadsPerCore: 1, mode: "auto" },
      memoryMib: 2048,
      hugepages: false,
      disks: [
        { id: "root", newImage: { sizeBytes: 2 ** 30, format: "qcow2" }, bus: "virtio", bootOrder: 0, readonly: false, device: "disk" },
        { id: "iso", path: "/iso/a.iso", bus: "sata", bootOrder: 0, readonly: true, device: "cdrom" },
      ],
      nics: [{ id: "eth0", bridge: "br0", model: "virtio" }],
      firmware: "bios",
      console: { type: "vnc" },
      hostDevices: [],
      labels: {},
      description: "",
      guestOs: "",
    });
    expect(() => validateVmSpec(spec)).not.toThrow();
  });

  test("keeps what the caller gave and does not touch the input", () => {
    const input = {
      name: "db",
      memoryMib: 4096,
      cpu: { sockets: 2, mode: "custom" as const, model: "EPYC-Rome" },
      labels: { a: "b" },
      hostDevices: [{ pciAddress: "0000:01:00.0", romBar: false }],
      console: { type: "spice" as const, password: "pw", listen: "10.0.0.1" },
    };
    const before = structuredClone(input);
    const spec = withDefaults(input);
    expect(input).toEqual(before);
    expect(spec.cpu).toEqual({ sockets: 2, coresPerSocket: 1, threadsPerCore: 1, mode: "custom", model: "EPYC-Rome" });
    expect(spec.hostDevices).toEqual([{ pciAddress: "0000:01:00.0", romBar: false }]);
    expect(spec.console).toEqual({ type: "spice", password: "pw", listen: "10.0.0.1" });
    spec.labels.x = "y";
    expect(input.labels).toEqual({ a: "b" });
  });
});

test("withDefaults keeps the new request fields and fills only what is unset", () => {
  const spec = withDefaults({
    name: "app",
    memoryMib: 1024,
    cpu: { mode: "maximum" },
    disks: [
      { id: "root", volume: "app-root.qcow2", pool: "fast", newImage: { sizeBytes: 2 ** 30 }, iopsLimit: 500, throughputMbps: 100 },
      { id: "iso", volume: "iso/debian.iso", device: "cdrom", bus: "ide" },
      { id: "empty", device: "cdrom" },
    ],
    nics: [{ id: "eth0", network: "default", bandwidthMbps: 100, bootOrder: 2 }],
    console: { port: 5901 },
    cloudInit: { userData: "#cloud-config\n" },
    guestOs: "debian",
  });
  expect(spec.cpu.mode).toBe("maximum");
  expect(spec.disks).toEqual([
    {
      id: "root",
      volume: "app-root.qcow2",
      pool: "fast",
      newImage: { sizeBytes: 2 ** 30, format: "qcow2" },
      iopsLimit: 500,
      throughputMbps: 100,
      bus: "virtio",
      bootOrder: 0,
      readonly: false,
      device: "disk",
    },
    { id: "iso", volume: "iso/debian.iso", bus: "ide", bootOrder: 0, readonly: true, device: "cdrom" },
    { id: "empty", bus: "sata", bootOrder: 0, readonly: true, device: "cdrom" },
  ]);
  expect(spec.nics).toEqual([{ id: "eth0", network: "default", model: "virtio", bandwidthMbps: 100, bootOrder: 2 }]);
  expect(spec.console).toEqual({ type: "vnc", port: 5901 });
  expect(spec.cloudInit).toEqual({ userData: "#cloud-config\n", metaData: "", networkConfig: "", vendorData: "" });
  expect(spec.guestOs).toBe("debian");
  expect(() => validateVmSpec(spec)).not.toThrow();
  expect(withDefaults({ name: "b", memoryMib: 512 }).cloudInit).toBeUndefined();
});

test("generateMac gives 52:54:00 unicast addresses", () => {
  expect(generateMac(() => 0)).toBe("52:54:00:00:00:00");
  expect(generateMac(() => 0.999999)).toBe("52:54:00:ff:ff:ff");
  for (let i = 0; i < 100; i++) expect(generateMac()).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
});

describe("specsEqual", () => {
  const base = withDefaults({ name: "a", memoryMib: 512, disks: [{ id: "root", path: "/img/a" }], labels: { x: "1", y: "2" } });

  test("ignores output-only fields, label order and unset-vs-empty strings", () => {
    const other = structuredClone(base);
    (other.disks[0] as { target?: string }).target = "vda";
    other.labels = { y: "2", x: "1" };
    other.description = "";
    expect(specsEqual(base, other)).toBe(true);
    expect(specsEqual(base, { ...base, console: { type: "vnc", password: "" } })).toBe(true);
  });

  test("sees real differences", () => {
    expect(specsEqual(base, { ...base, memoryMib: 1024 })).toBe(false);
    expect(specsEqual(base, { ...base, labels: { x: "1" } })).toBe(false);
    expect(specsEqual(base, { ...base, labels: { x: "1", y: "2", z: "" } })).toBe(false);
    expect(specsEqual(base, { ...base, disks: [] })).toBe(false);
    expect(specsEqual(base, { ...base, disks: [{ ...(base.disks[0] as (typeof base.disks)[number]), readonly: true }] })).toBe(false);
  });
});
