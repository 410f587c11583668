// Representative build inputs, shared by the golden, round-trip and libvirt test-driver tests.

import type { DomainBuildInput } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import type { VmSpec } from "../../../../src/hypervisor/types.ts";

const createdAt = new Date("2026-11-22T01:02:03.000Z");

export const minimalSpec: VmSpec = {
  name: "minimal",
  cpu: { sockets: 1, coresPerSocket: 1, threadsPerCore: 1, mode: "host-model" },
  memoryMib: 512,
  hugepages: false,
  disks: [
    {
      id: "root",
      path: "/var/lib/limiquantix/images/minimal.qcow2",
      resolvedPath: "/var/lib/limiquantix/images/minimal.qcow2",
      bus: "virtio",
      bootOrder: 1,
      readonly: false,
      device: "disk",
    },
  ],
  nics: [],
  firmware: "bios",
  console: { type: "vnc" },
  hostDevices: [],
  labels: {},
  description: "",
};

export const uefiSpec: VmSpec = {
  name: "db-primary",
  cpu: { sockets: 2, coresPerSocket: 2, threadsPerCore: 2, mode: "custom", model: "Skylake-Server-IBRS" },
  memoryMib: 8192,
  hugepages: true,
  disks: [
    {
      id: "root",
      path: "/var/lib/limiquantix/images/ubuntu-24.04.qcow2",
      resolvedPath: "/var/lib/limiquantix/images/ubuntu-24.04.qcow2",
      bus: "virtio",
      bootOrder: 1,
      readonly: false,
      device: "disk",
    },
    {
      id: "data",
      newImage: { sizeBytes: 21474836480, format: "raw" },
      resolvedPath: "/var/lib/limiquantix/vms/db-primary/data.raw",
      bus: "scsi",
      bootOrder: 0,
      readonly: false,
      device: "disk",
    },
    {
      id: "install",
      path: "/var/lib/limiquantix/iso/ubuntu-24.04-live-server-amd64.iso",
      resolvedPath: "/var/lib/limiquantix/iso/ubuntu-24.04-live-server-amd64.iso",
      bus: "sata",
      bootOrder: 2,
      readonly: true,
      device: "cdrom",
    },
  ],
  nics: [
    { id: "lan", bridge: "br0", mac: "52:54:00:6b:3c:01", model: "virtio" },
    { id: "mgmt", network: "default", mac: "52:54:00:6b:3c:02", model: "e1000" },
  ],
  firmware: "uefi",
  console: { type: "spice", password: "s3cret", listen: "0.0.0.0" },
  hostDevices: [],
  labels: { app: "postgres", tier: "db", "limiquantix.io/owner": "team-a" },
  description: "Primary database\nsecond line",
};

export const gpuSpec: VmSpec = {
  name: "ml-worker-3",
  cpu: { sockets: 1, coresPerSocket: 8, threadsPerCore: 2, mode: "host-passthrough" },
  memoryMib: 32768,
  hugepages: true,
  disks: [
    {
      id: "root",
      newImage: { sizeBytes: 107374182400, format: "qcow2", backingPath: "/var/lib/limiquantix/images/cuda-base.qcow2" },
      resolvedPath: "/var/lib/limiquantix/vms/ml-worker-3/root.qcow2",
      bus: "virtio",
      bootOrder: 1,
      readonly: false,
      device: "disk",
    },
  ],
  nics: [{ id: "eth0", bridge: "br-gpu", mac: "52:54:00:aa:bb:03", model: "virtio" }],
  firmware: "bios",
  console: { type: "vnc", listen: "10.0.0.5" },
  hostDevices: [
    { pciAddress: "0000:01:00.0", romBar: true },
    { pciAddress: "0000:01:00.1", romBar: false },
  ],
  labels: { gpu: "rtx-4090" },
  description: "",
};

/** Every user-controlled string carries XML syntax; none of it may become structure. */
export const hostileSpec: VmSpec = {
  name: "</name><devices>",
  cpu: { sockets: 1, coresPerSocket: 1, threadsPerCore: 1, mode: "custom", model: `qemu64"/><feature name='x` },
  memoryMib: 1024,
  hugepages: false,
  disks: [
    {
      id: "root disk/ü_1",
      path: `/var/lib/limiquantix/images/it's "x" & <y>.qcow2`,
      resolvedPath: `/var/lib/limiquantix/images/it's "x" & <y>.qcow2`,
      bus: "virtio",
      bootOrder: 1,
      readonly: false,
      device: "disk",
    },
  ],
  nics: [{ id: "n'1", network: `default"/><source bridge="evil`, mac: "52:54:00:00:00:66", model: "virtio" }],
  firmware: "bios",
  console: { type: "vnc", password: `p"a'ss<&>`, listen: "127.0.0.1" },
  hostDevices: [],
  labels: {
    "&<>\"'": "&<>\"'",
    "</lq:labels><lq:label key=": "true",
    ["__proto__"]: "polluted?",
    tabs: "a\tb\nc\r\nd",
    literal: "&#10; &amp; &lt;",
    "": "empty key",
    cdata: "]]><![CDATA[x]]><!-- c -->",
  },
  description: "  ]]></lq:description></lq:vm></metadata><devices><disk type='block'/></devices>  ",
};

export const profiles: Record<string, DomainBuildInput> = {
  "minimal-bios": {
    id: "8f0e4d52-6a1b-4c3e-9f2a-1d7c5b3a9e01",
    spec: minimalSpec,
    domainType: "kvm",
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { root: "qcow2" },
  },
  "uefi-disks-nics-spice": {
    id: "3c9a2b1d-5e6f-4a70-8b91-c2d3e4f5a6b7",
    spec: uefiSpec,
    domainType: "kvm",
    emulator: "/usr/bin/qemu-system-x86_64",
    machine: "q35",
    uefi: {
      loaderPath: "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
      nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
      nvramPath: "/var/lib/libvirt/qemu/nvram/3c9a2b1d-5e6f-4a70-8b91-c2d3e4f5a6b7_VARS.fd",
      secure: true,
    },
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { root: "qcow2", install: "raw" },
  },
  "gpu-passthrough": {
    id: "d4e5f6a7-b8c9-4d0e-a1f2-031425364758",
    spec: gpuSpec,
    domainType: "kvm",
    emulator: "/usr/bin/qemu-system-x86_64",
    consoleListen: "127.0.0.1",
    // The node setting for nested AMD EPYC hosts; duplicates and order must not matter.
    cpuDisabledFeatures: ["arch-capabilities", "amd-ssbd", "arch-capabilities"],
    createdAt,
  },
  "hostile-strings": {
    id: "00000000-0000-4000-8000-000000000bad",
    spec: hostileSpec,
    domainType: "qemu",
    machine: "pc",
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { "root disk/ü_1": "qcow2" },
  },
};

/** What parse should give back for a built profile: the spec with guest device names filled in. */
export function expectedSpec(input: DomainBuildInput, targets: string[]): VmSpec {
  return {
    ...input.spec,
    disks: input.spec.disks.map((d, i) => ({ ...d, target: targets[i] })),
    console:
      input.spec.console.type === "none"
        ? input.spec.console
        : { ...input.spec.console, listen: input.spec.console.listen ?? input.consoleListen },
  };
}
