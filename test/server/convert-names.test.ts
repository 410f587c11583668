// Names that cross the boundary: which libvirt network a NIC's `network` means, and which wire
// field an error of the hypervisor model's rules names.

import { describe, expect, test } from "bun:test";
import { HypervisorError } from "../../src/hypervisor/errors.ts";
import { isControlPlaneNetworkId, libvirtNetworkFor } from "../../src/server/convert/network-name.ts";
import { wireField, withWireFields } from "../../src/server/convert/field-names.ts";

describe("network names", () => {
  test.each([
    ["6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20", true, "br-default"],
    ["6F1C2A9E-4B7D-4E21-9A3C-5D8E7F6A1B20", true, "br-default"],
    ["net-prod", true, "br-default"],
    ["net-", true, "br-default"],
    ["", false, "br-default"],
    ["default", false, "default"],
    ["lan", false, "lan"],
    ["network-1", false, "network-1"],
    // Longer than 30 characters with dashes, but not a UUID: an operator's name, kept.
    ["my-very-long-libvirt-network-name-x", false, "my-very-long-libvirt-network-name-x"],
    ["6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b2", false, "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b2"],
  ])("%j: control plane id %s, joins %s", (network, isId, joins) => {
    expect(isControlPlaneNetworkId(network)).toBe(isId);
    expect(libvirtNetworkFor(network, "br-default")).toBe(joins);
  });
});

describe("wireField", () => {
  // The model's disk list holds disks and CD-ROMs together: [disk, cdrom, disk, cdrom].
  const disks = [{ device: "disk" }, { device: "cdrom" }, { device: "disk" }, { device: "cdrom" }] as const;

  test.each([
    ["spec.cpu.sockets", "spec.cpu_sockets"],
    ["spec.cpu.cores_per_socket", "spec.cpu_cores"],
    ["spec.cpu.threads_per_core", "spec.cpu_threads_per_core"],
    ["spec.cpu.mode", "spec.cpu_mode"],
    ["spec.cpu.model", "spec.cpu_model"],
    ["spec.cpu", "spec.cpu_cores"],
    ["spec.memory.size_mib", "spec.memory_mib"],
    ["spec.memory.hugepages", "spec.memory_hugepages"],
    ["spec.console.password", "spec.console.vnc_password"],
    ["spec.console.port", "spec.console.vnc_port"],
    ["spec.console.listen", "spec.console.listen"],
    ["spec.name", "name"],
    ["spec.labels", "labels"],
    ['spec.labels["bad key"]', 'labels["bad key"]'],
    ["spec.disks", "spec.disks"],
    ["spec.disks[0].id", "spec.disks[0].id"],
    ["spec.disks[2].id", "spec.disks[1].id"],
    ["spec.disks[1].id", "spec.cdroms[0].id"],
    ["spec.disks[3].volume", "spec.cdroms[1].iso_path"],
    ["spec.disks[3].path", "spec.cdroms[1].iso_path"],
    ["spec.disks[1].source", "spec.cdroms[0]"],
    ["spec.disks[1].boot_order", "spec.cdroms[0].bootable"],
    ["spec.disks[0].volume", "spec.disks[0].path"],
    ["spec.disks[2].pool", "spec.disks[1].pool_id"],
    ["spec.disks[0].new_image.size_bytes", "spec.disks[0].size_gib"],
    ["spec.disks[0].new_image.backing_path", "spec.disks[0].backing_file"],
    ["spec.disks[0].new_image.format", "spec.disks[0].format"],
    ["spec.disks[0].new_image", "spec.disks[0]"],
    ["spec.disks[0].source", "spec.disks[0]"],
    ["spec.disks[0].boot_order", "spec.disks[0].bootable"],
    ["spec.disks[0].bus", "spec.disks[0].bus"],
    ["spec.disks[9].id", "spec.disks[2].id"], // past the list: counted as a disk
    ["spec.nics[1].mac", "spec.nics[1].mac_address"],
    ["spec.nics[0].attachment", "spec.nics[0].network"],
    ["spec.nics[0].bridge", "spec.nics[0].bridge"],
    ["nic.mac", "nic.mac_address"],
    ["disk.new_image.backing_path", "disk.backing_file"],
    ["disk.volume", "disk.path"],
    ["disk.source", "disk"],
    ["disk", "disk"],
    ["spec.host_devices[0].pci_address", "spec.host_devices[0].pci_address"],
    ["vm_id", "vm_id"],
  ])("%s -> %s", (model, wire) => {
    expect(wireField(model, disks)).toBe(wire);
  });
});

describe("withWireFields", () => {
  const disks = [{ device: "cdrom" as const }];

  test("renames the field and the message's leading field; keeps kind and cause", async () => {
    const cause = new HypervisorError("invalid_argument", "spec.disks[0].volume: not found", "spec.disks[0].volume");
    const err = await withWireFields(disks, async () => {
      throw cause;
    }).catch((e: HypervisorError) => e);
    expect(err).toBeInstanceOf(HypervisorError);
    expect({ kind: err.kind, field: err.field, message: err.message, cause: err.cause }).toEqual({
      kind: "invalid_argument",
      field: "spec.cdroms[0].iso_path",
      message: "spec.cdroms[0].iso_path: not found",
      cause,
    });
  });

  test("a message that does not start with the field keeps its text", async () => {
    const err = await withWireFields(disks, async () => {
      throw new HypervisorError("not_found", "storage pool ssd not found", "spec.disks[0].pool");
    }).catch((e: HypervisorError) => e);
    expect([err.field, err.message]).toEqual(["spec.cdroms[0].pool", "storage pool ssd not found"]);
  });

  test.each([
    ["an error without a field", new HypervisorError("not_found", "VM not found: x")],
    ["a field already on the wire", new HypervisorError("invalid_argument", "vm_id: bad", "vm_id")],
    ["another error type", new TypeError("boom")],
  ])("passes %s through as it is", async (_name, thrown) => {
    expect(await withWireFields(disks, async () => Promise.reject(thrown)).catch((e) => e)).toBe(thrown);
  });

  test("answers what the call answers", async () => {
    expect(await withWireFields([], async () => 7)).toBe(7);
  });
});
