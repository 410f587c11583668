import { cloudInitDigest } from "../../../../src/hypervisor/defaults.ts";
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
  guestOs: "",
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
  guestOs: "",
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
  guestOs: "",
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
  // Unknown profile names are generic_linux; the name itself is kept as text.
  guestOs: `x"/><lq:guest-os name='windows_server`,
  cloudInit: {
    userData: "#cloud-config\r\nruncmd:\n  - echo '</lq:user-data></lq:cloud-init>' && echo \"]]>\" <&>\n\t",
    metaData: "  instance-id: <x>&amp;\n",
    networkConfig: "<!-- c --><![CDATA[x]]>",
    vendorData: "&#10;",
  },
};

/** cloud-init user data of a few KB, as a real one with write_files may be. */
function bigUserData(): string {
  const lines = ["#cloud-config", "hostname: app-1", "write_files:"];
  for (let i = 0; i < 40; i++) {
    lines.push(`  - path: /etc/app/conf.d/${i}.conf`, "    content: |", `      key_${i} = "value & <tag> ${"x".repeat(60)}"`, "      other = 'ü€😀'");
  }
  lines.push("runcmd:", "  - [sh, -c, 'echo done > /tmp/done']", "");
  return lines.join("\n");
}

export const debianSpec: VmSpec = {
  name: "deb-12",
  cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1, mode: "auto" },
  memoryMib: 2048,
  hugepages: false,
  disks: [
    {
      id: "root",
      volume: "deb-12-root.qcow2",
      pool: "local-ssd",
      newImage: { sizeBytes: 10737418240, format: "qcow2", backingPath: "/var/lib/limiquantix/images/debian-12-genericcloud-amd64.qcow2" },
      resolvedPath: "/var/lib/limiquantix/pools/local-ssd/deb-12-root.qcow2",
      bus: "virtio",
      bootOrder: 1,
      readonly: false,
      device: "disk",
    },
  ],
  nics: [{ id: "eth0", bridge: "br0", mac: "52:54:00:de:b1:01", model: "virtio" }],
  firmware: "bios",
  console: { type: "vnc" },
  hostDevices: [],
  labels: { os: "debian" },
  description: "",
  guestOs: "debian",
};

/** SATA disk and CD-ROMs (one asked for on IDE, which q35 puts on SATA), e1000: Windows without drivers. */
export const windowsSpec: VmSpec = {
  name: "win-2022",
  cpu: { sockets: 1, coresPerSocket: 4, threadsPerCore: 2, mode: "auto" },
  memoryMib: 8192,
  hugepages: false,
  disks: [
    {
      id: "c",
      path: "/var/lib/limiquantix/images/win-2022-c.qcow2",
      resolvedPath: "/var/lib/limiquantix/images/win-2022-c.qcow2",
      bus: "sata",
      bootOrder: 1,
      readonly: false,
      device: "disk",
    },
    {
      id: "install",
      volume: "iso/windows-server-2022.iso",
      resolvedPath: "/var/lib/limiquantix/pools/isos/iso/windows-server-2022.iso",
      bus: "ide",
      bootOrder: 2,
      readonly: true,
      device: "cdrom",
    },
    { id: "drivers", bus: "sata", bootOrder: 0, readonly: true, device: "cdrom" },
  ],
  nics: [{ id: "lan", network: "default", mac: "52:54:00:00:20:22", model: "e1000" }],
  firmware: "bios",
  console: { type: "vnc", listen: "0.0.0.0" },
  hostDevices: [],
  labels: {},
  description: "Windows Server 2022",
  guestOs: "windows_server",
};

export const genericLinuxSpec: VmSpec = {
  ...minimalSpec,
  name: "generic",
  cpu: { sockets: 2, coresPerSocket: 1, threadsPerCore: 1, mode: "auto" },
  nics: [{ id: "eth0", network: "default", mac: "52:54:00:00:00:01", model: "virtio" }],
  guestOs: "generic_linux",
};

/** What a host without /dev/kvm runs: nothing to boot but an empty CD-ROM drive, so it starts anywhere. */
export const tcgSpec: VmSpec = {
  name: "tcg-guest",
  cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1, mode: "auto" },
  memoryMib: 256,
  hugepages: false,
  disks: [{ id: "cdrom0", bus: "sata", bootOrder: 0, readonly: true, device: "cdrom" }],
  nics: [],
  firmware: "bios",
  console: { type: "vnc" },
  hostDevices: [],
  labels: {},
  description: "",
  guestOs: "",
};

/** Every limit and request fact: iotune, bandwidth, NIC boot order, fixed port, cloud-init, volumes. */
export const limitsSpec: VmSpec = {
  name: "app-1",
  cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1, mode: "maximum" },
  memoryMib: 4096,
  hugepages: false,
  disks: [
    {
      id: "root",
      volume: "app-1-root.qcow2",
      pool: "nvme-0",
      resolvedPath: "/var/lib/limiquantix/pools/nvme-0/app-1-root.qcow2",
      bus: "virtio",
      bootOrder: 1,
      readonly: false,
      device: "disk",
      iopsLimit: 5000,
      throughputMbps: 200,
    },
    {
      id: "data",
      path: "/var/lib/limiquantix/images/app-1-data.raw",
      resolvedPath: "/var/lib/limiquantix/images/app-1-data.raw",
      bus: "virtio",
      bootOrder: 0,
      readonly: false,
      device: "disk",
      iopsLimit: 250,
    },
    // Added by the node (CLOUD_INIT_CDROM_ID), not by the caller.
    {
      id: "cloud-init",
      path: "/var/lib/limiquantix/vms/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d/cloud-init.iso",
      resolvedPath: "/var/lib/limiquantix/vms/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d/cloud-init.iso",
      bus: "sata",
      bootOrder: 0,
      readonly: true,
      device: "cdrom",
    },
  ],
  nics: [
    { id: "eth0", bridge: "br0", mac: "52:54:00:a0:00:01", model: "virtio", bandwidthMbps: 1000, bootOrder: 2 },
    { id: "eth1", network: "default", mac: "52:54:00:a0:00:02", model: "virtio", bandwidthMbps: 10 },
  ],
  firmware: "bios",
  console: { type: "vnc", password: "vncpw", listen: "0.0.0.0", port: 5905 },
  hostDevices: [],
  labels: { app: "shop" },
  description: "",
  guestOs: "rhel",
  cloudInit: {
    userData: bigUserData(),
    metaData: "",
    networkConfig: "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
    vendorData: "",
  },
};

const baseProfiles: Record<string, DomainBuildInput> = {
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
  "debian-kvm": {
    id: "6d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    spec: debianSpec,
    domainType: "kvm",
    emulator: "/usr/bin/qemu-system-x86_64",
    machine: "q35",
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { root: "qcow2" },
  },
  "windows-server-kvm": {
    id: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    spec: windowsSpec,
    domainType: "kvm",
    emulator: "/usr/bin/qemu-system-x86_64",
    machine: "q35",
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { c: "qcow2", install: "raw", drivers: "raw" },
  },
  "generic-linux-kvm": {
    id: "0f1e2d3c-4b5a-4968-8776-655443322110",
    spec: genericLinuxSpec,
    domainType: "kvm",
    emulator: "/usr/bin/qemu-system-x86_64",
    machine: "q35",
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { root: "qcow2" },
    cpuDisabledFeatures: ["arch-capabilities"],
  },
  "generic-linux-tcg": {
    id: "7c6b5a49-3827-4165-9f4e-3d2c1b0a9f8e",
    spec: tcgSpec,
    domainType: "qemu",
    emulator: "/usr/bin/qemu-system-x86_64",
    machine: "q35",
    consoleListen: "127.0.0.1",
    createdAt,
    // Not applied under TCG: the list is about what KVM cannot give a guest.
    cpuDisabledFeatures: ["arch-capabilities"],
  },
  "limits-cloud-init": {
    id: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    spec: limitsSpec,
    domainType: "kvm",
    emulator: "/usr/bin/qemu-system-x86_64",
    machine: "q35",
    consoleListen: "127.0.0.1",
    createdAt,
    diskFormats: { root: "qcow2", data: "raw", "cloud-init": "raw" },
  },
};

/** Guest device names each profile's disks get, in spec order. */
export const profileTargets: Record<string, string[]> = {
  "minimal-bios": ["vda"],
  "uefi-disks-nics-spice": ["vda", "sda", "sdb"],
  "gpu-passthrough": ["vda"],
  "hostile-strings": ["vda"],
  "debian-kvm": ["vda"],
  // The IDE CD-ROM is on SATA (q35): sdb, not hda.
  "windows-server-kvm": ["sda", "sdb", "sdc"],
  "generic-linux-kvm": ["vda"],
  "generic-linux-tcg": ["sda"],
  "limits-cloud-init": ["vda", "vdb", "sda"],
};

/** What parse should give back for a built profile: the spec with guest device names filled in. */
export function expectedSpec(input: DomainBuildInput, targets: string[]): VmSpec {
  const ci = input.spec.cloudInit;
  return {
    ...input.spec,
    // Only the digest of cloud-init data is kept beside the domain (the data can hold secrets).
    ...(ci ? { cloudInit: { userData: "", metaData: "", networkConfig: "", vendorData: "", digest: cloudInitDigest(ci) } } : {}),
    disks: input.spec.disks.map((d, i) => ({ ...d, target: targets[i] })),
    console: input.spec.console.type === "none" ? input.spec.console : { ...input.spec.console, listen: input.spec.console.listen ?? input.consoleListen },
  };
}

/** Every domain the node defines carries the Quantix agent channel, bound under agent.socket_dir. */
export const profiles: Record<string, DomainBuildInput> = Object.fromEntries(
  Object.entries(baseProfiles).map(([name, p]) => [name, { ...p, agentSocketPath: `/var/run/limiquantix/vms/${p.id}.agent.sock` }]),
);
