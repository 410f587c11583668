// The spec file reader in-process: the friendly shape maps onto VMSpec, the example in deploy/
// is accepted as written, and every failure names the file and the field.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readSpecFile, specFromObject } from "../../../src/cli/client/spec-file.ts";
import {
  ConsoleType,
  CpuMode,
  DiskBus,
  DiskFormat,
  Firmware,
  NicModel,
} from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../../../src/cli/usage-error.ts";
import { ROOT } from "./helpers.ts";

const fromText = (file: string, text: string) => readSpecFile(file, () => text);

function failure(file: string, text: string): string {
  try {
    fromText(file, text);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("expected the spec to be refused");
}

describe("the example spec", () => {
  test("deploy/vm-spec.example.yaml is accepted and means what its comments say", () => {
    const spec = readSpecFile(join(ROOT, "deploy", "vm-spec.example.yaml"));
    expect(spec.name).toBe("web-1");
    expect(spec.cpu).toMatchObject({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1, mode: CpuMode.HOST_PASSTHROUGH });
    expect(spec.memory).toMatchObject({ sizeMib: 2048n, hugepages: false });
    expect(spec.firmware).toBe(Firmware.BIOS);
    expect(spec.disks).toHaveLength(1);
    const root = spec.disks[0]!;
    expect(root.source.case).toBe("newImage");
    expect(root.source.value).toMatchObject({ sizeBytes: 10n * 1024n ** 3n, format: DiskFormat.QCOW2 });
    expect(root).toMatchObject({ id: "root", bus: DiskBus.VIRTIO, bootOrder: 1 });
    expect(spec.nics[0]).toMatchObject({ id: "eth0", attachment: { case: "network", value: "default" }, model: NicModel.VIRTIO });
    expect(spec.console).toMatchObject({ type: ConsoleType.VNC, password: "s3cret" });
    expect(spec.labels).toEqual({ tier: "web", owner: "ops" });
  });
});

describe("the friendly shape", () => {
  test("snake_case, camelCase and proto enum names mean the same", () => {
    const snake = specFromObject({ name: "a", cpu: { cores_per_socket: 2, mode: "host-model" }, memory: { size_mib: 512 }, disks: [{ id: "d", new_image: { size_bytes: 1073741824, format: "raw" }, bus: "sata" }] });
    const camel = specFromObject({ name: "a", cpu: { coresPerSocket: 2, mode: "CPU_MODE_HOST_MODEL" }, memory: { sizeMib: 512 }, disks: [{ id: "d", newImage: { sizeBytes: 1073741824, format: "DISK_FORMAT_RAW" }, bus: "SATA" }] });
    const units = specFromObject({ name: "a", cpu: { coresPerSocket: 2, mode: "host_model" }, memory: { size: "512M" }, disks: [{ id: "d", new_image: { size: "1G", format: "raw" }, bus: "sata" }] });
    expect(camel).toEqual(snake);
    expect(units).toEqual(snake);
  });

  test("label keys are kept as written (not case-converted)", () => {
    expect(specFromObject({ name: "a", memory: { size_mib: 256 }, labels: { teamName: "x", "app.kubernetes.io/name": "y" } }).labels).toEqual({
      teamName: "x",
      "app.kubernetes.io/name": "y",
    });
  });

  test("YAML numbers where text is meant (a VNC password of digits) are read as text", () => {
    expect(fromText("a.yaml", "name: a\nmemory: {size: 1G}\nconsole: {password: 1234}\n").console?.password).toBe("1234");
  });
});

describe("failures name the file and the field", () => {
  const cases: [string, string, string][] = [
    ["x.yaml", "name: a\nmemory: {size: 1G}\nfirmware: coreboot\n", "x.yaml: spec.firmware: must be one of bios, uefi; got string \"coreboot\""],
    ["x.yaml", "name: a\nmemory: {size: 1G}\nnics: [{id: e, bridge: br0, network: default}]\n", "x.yaml: spec.nics[0].attachment: set only one of bridge and network"],
    ["x.yaml", "name: a\nmemory: {size: 1G}\ndisks:\n  - {id: root, new_image: {size: 1G}}\n  - {id: root, new_image: {size: 1G}}\n", 'x.yaml: spec.disks[1].id: "root" is used by disks[0]'],
    ["x.yaml", "name: a\nmemory: {size: 1.5K}\n", "x.yaml: spec.memory.size: must be a whole number of MiB"],
    ["x.yaml", "name: a\nmemory: {size: lots}\n", "x.yaml: spec.memory.size: must be a size like 2048 (MiB) or 2G"],
    ["x.yaml", "name: a\nmemory: 2048\n", "x.yaml: spec.memory: must be a mapping of fields; got number 2048"],
    ["x.yaml", "name: a\nmemory: {size: 1G}\ncpu: {sockets: -1}\n", "x.yaml: spec.cpu.sockets: must be a whole number >= 0"],
    ["x.yaml", "name: a\nmemory: {size: 1G}\nmemory_mib: 5\n", "x.yaml: spec.memory_mib: unknown field; known fields here: name, cpu, memory"],
    ["x.yaml", "name: bad name\nmemory: {size: 1G}\n", "x.yaml: spec.name: must use only A-Z a-z 0-9 . _ -"],
    ["x.yaml", "- a\n- b\n", "x.yaml: spec: must be a mapping of fields; got a list"],
    ["x.yaml", "name: a\nmemory: {size: 1G, size_mib: 1024}\n", "x.yaml: spec.memory.size_mib: is given twice (as size_mib and size_mib)"],
    ["x.json", "{\"name\": ", "x.json: not valid JSON"],
    ["x.yaml", "name: [a\n", "x.yaml:2:1: not valid YAML"],
    ["x.yaml", "", "x.yaml: the file is empty"],
  ];
  test.each(cases)("%s %#", (file, text, message) => {
    expect(failure(file, text)).toStartWith(message);
  });
});
