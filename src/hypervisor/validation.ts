// Backend-neutral checks of what a caller asks for. Pure: no I/O. Every failure is a
// HypervisorError("invalid_argument") whose field uses the protobuf (snake_case) names of
// node_daemon.proto, so an API client can find the offending field in its own request.
// The checks read the value as `unknown`: a spec that arrives malformed at runtime must still
// fail with invalid_argument, never with a TypeError.

import { isIP } from "node:net";
import { invalidArgument } from "./errors.ts";
import { CLOUD_INIT_CDROM_ID, type DiskSpec, type NicSpec, type VmSpec } from "./types.ts";
import {
  CONSOLE_TYPES,
  CONTROL_EXCEPT_WHITESPACE_RE,
  CONTROL_RE,
  CPU_MODEL_RE,
  CPU_MODES,
  DEVICE_ID_RE,
  DISK_BUSES,
  DISK_DEVICES,
  DISK_FORMATS,
  FIRMWARES,
  GUEST_OS_RE,
  LABEL_KEY_RE,
  LIMITS,
  MAC_RE,
  NIC_MODELS,
  type Obj,
  PCI_RE,
  UUID_RE,
  bool,
  hostPath,
  ifname,
  int,
  list,
  name,
  object,
  oneOf,
  optionalInt,
  optionalString,
  poolId,
  requiredString,
  show,
  unique,
  volumeName,
} from "./validation-checks.ts";

export { LIMITS, show } from "./validation-checks.ts";

export function validateVmId(id: unknown, field = "vm_id"): void {
  if (typeof id !== "string" || !UUID_RE.test(id)) {
    throw invalidArgument(field, `must be a lowercase UUID like 2f1c4e8a-0b6d-4c3e-9a51-7d2e8f0a1b3c, got ${show(id)}`);
  }
  if (id === "00000000-0000-0000-0000-000000000000") throw invalidArgument(field, "must not be the nil UUID");
}

export function validateMac(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (!MAC_RE.test(s)) throw invalidArgument(field, `must look like 52:54:00:12:34:56, got ${show(s)}`);
  const firstOctet = Number.parseInt(s.slice(0, 2), 16);
  if (firstOctet % 2 !== 0) throw invalidArgument(field, `must be a unicast address (first octet even), got ${show(s)}`);
  if (/^(00:){5}00$/.test(s)) throw invalidArgument(field, "must not be all zeros");
  return s;
}

export interface ValidationOptions {
  /**
   * Accept the CD-ROM the node adds itself (id CLOUD_INIT_CDROM_ID): for a spec the backend has
   * completed or read back, never for a caller's request.
   */
  allowNodeCdroms?: boolean;
}

export function validateDiskSpec(disk: DiskSpec, field = "disk", options: ValidationOptions = {}): void {
  const d = object(disk as unknown, field);
  const id = requiredString(d.id, `${field}.id`);
  if (!DEVICE_ID_RE.test(id)) {
    throw invalidArgument(`${field}.id`, `must be 1-32 characters of a-z 0-9 _ - starting with a letter or digit, got ${show(id)}`);
  }
  const device = oneOf(d.device, `${field}.device`, DISK_DEVICES);
  if (id === CLOUD_INIT_CDROM_ID && !(options.allowNodeCdroms && device === "cdrom")) {
    throw invalidArgument(`${field}.id`, `${show(id)} is the id of the node's cloud-init CD-ROM; use spec.cloud_init for cloud-init data`);
  }
  const bus = oneOf(d.bus, `${field}.bus`, DISK_BUSES);
  const readonly = bool(d.readonly, `${field}.readonly`);
  int(d.bootOrder, `${field}.boot_order`, 0, LIMITS.bootOrderMax);

  const hasPath = d.path !== undefined && d.path !== "";
  const hasVolume = d.volume !== undefined && d.volume !== "";
  const hasImage = d.newImage !== undefined && d.newImage !== null;
  if (hasPath && hasVolume) throw invalidArgument(`${field}.source`, "path and volume must not both be set");
  if (hasPath && hasImage) throw invalidArgument(`${field}.source`, "path and new_image must not both be set (new_image creates a volume)");
  if (device === "disk" && !hasPath && !hasVolume && !hasImage) {
    throw invalidArgument(`${field}.source`, "a disk needs one of path, volume and new_image");
  }
  if (hasPath) hostPath(d.path, `${field}.path`);
  if (hasVolume) volumeName(d.volume, `${field}.volume`, device === "cdrom");
  if (optionalString(d.pool, `${field}.pool`) !== undefined) {
    poolId(d.pool, `${field}.pool`);
    if (!hasVolume && !hasImage) throw invalidArgument(`${field}.pool`, "must be empty unless volume or new_image is set");
  }
  optionalInt(d.iopsLimit, `${field}.iops_limit`, 0, LIMITS.iopsLimitMax);
  optionalInt(d.throughputMbps, `${field}.throughput_mbps`, 0, LIMITS.throughputMbpsMax);
  if (hasImage) {
    const imageField = `${field}.new_image`;
    const image = object(d.newImage, imageField);
    int(image.sizeBytes, `${imageField}.size_bytes`, LIMITS.imageBytesMin, LIMITS.imageBytesMax);
    const format = oneOf(image.format, `${imageField}.format`, DISK_FORMATS);
    if (image.backingPath !== undefined && image.backingPath !== "") {
      if (format !== "qcow2") throw invalidArgument(`${imageField}.backing_path`, "is only allowed for format qcow2");
      // Absolute: a host image. Relative: a volume name the storage rules look up in the pools
      // (the control plane names the source disk's volume id when it clones).
      if (String(image.backingPath).startsWith("/")) hostPath(image.backingPath, `${imageField}.backing_path`);
      else volumeName(image.backingPath, `${imageField}.backing_path`, false);
    }
  }
  if (device === "cdrom") {
    if (!readonly) throw invalidArgument(`${field}.readonly`, "must be true for a cdrom");
    if (bus === "virtio") throw invalidArgument(`${field}.bus`, "a cdrom needs bus sata, scsi or ide (virtio has no removable media)");
    if (hasImage) throw invalidArgument(`${field}.new_image`, "a cdrom needs an existing ISO (path or volume) or none, not a new image");
  }
}

export function validateNicSpec(nic: NicSpec, field = "nic"): void {
  const n = object(nic as unknown, field);
  const id = requiredString(n.id, `${field}.id`);
  if (!DEVICE_ID_RE.test(id)) {
    throw invalidArgument(`${field}.id`, `must be 1-32 characters of a-z 0-9 _ - starting with a letter or digit, got ${show(id)}`);
  }
  const bridge = optionalString(n.bridge, `${field}.bridge`);
  const network = optionalString(n.network, `${field}.network`);
  if ((bridge === undefined) === (network === undefined)) {
    throw invalidArgument(`${field}.attachment`, "exactly one of bridge and network must be set");
  }
  if (bridge !== undefined) ifname(bridge, `${field}.bridge`);
  if (network !== undefined) name(network, `${field}.network`);
  if (optionalString(n.mac, `${field}.mac`) !== undefined) validateMac(n.mac, `${field}.mac`);
  oneOf(n.model, `${field}.model`, NIC_MODELS);
  optionalInt(n.bandwidthMbps, `${field}.bandwidth_mbps`, 0, LIMITS.bandwidthMbpsMax);
  optionalInt(n.bootOrder, `${field}.boot_order`, 0, LIMITS.bootOrderMax);
}

function validateCpu(v: unknown, field: string): void {
  const cpu = object(v, field);
  const sockets = int(cpu.sockets, `${field}.sockets`, 1, LIMITS.vcpusMax);
  const cores = int(cpu.coresPerSocket, `${field}.cores_per_socket`, 1, LIMITS.vcpusMax);
  const threads = int(cpu.threadsPerCore, `${field}.threads_per_core`, 1, LIMITS.vcpusMax);
  const vcpus = sockets * cores * threads;
  if (vcpus > LIMITS.vcpusMax) {
    throw invalidArgument(field, `sockets * cores_per_socket * threads_per_core must be at most ${LIMITS.vcpusMax} vCPUs, got ${vcpus}`);
  }
  const mode = oneOf(cpu.mode, `${field}.mode`, CPU_MODES);
  const model = optionalString(cpu.model, `${field}.model`);
  if (mode === "custom") {
    if (model === undefined) throw invalidArgument(`${field}.model`, 'must be set when mode is custom (e.g. "Skylake-Server")');
    if (!CPU_MODEL_RE.test(model)) throw invalidArgument(`${field}.model`, `must be a CPU model name like "EPYC-Rome", got ${show(model)}`);
  } else if (model !== undefined) {
    throw invalidArgument(`${field}.model`, `must be empty unless mode is custom (mode is ${mode})`);
  }
}

function validateConsole(v: unknown, field: string): void {
  const console = object(v, field);
  const type = oneOf(console.type, `${field}.type`, CONSOLE_TYPES);
  const password = optionalString(console.password, `${field}.password`);
  if (password !== undefined) {
    if (type === "none") throw invalidArgument(`${field}.password`, "must be empty when the console type is none");
    const max = type === "vnc" ? LIMITS.vncPasswordMaxChars : LIMITS.spicePasswordMaxChars;
    if (password.length > max) {
      throw invalidArgument(`${field}.password`, `must be at most ${max} characters for ${type}, got ${password.length}`);
    }
  }
  const listen = optionalString(console.listen, `${field}.listen`);
  if (listen !== undefined && isIP(listen) === 0) {
    throw invalidArgument(`${field}.listen`, `must be an IPv4 or IPv6 address, got ${show(listen)}`);
  }
  const port = optionalInt(console.port, `${field}.port`, 0, LIMITS.consolePortMax);
  if (port !== undefined && port !== 0) {
    if (type === "none") throw invalidArgument(`${field}.port`, "must be 0 when the console type is none");
    if (port < LIMITS.consolePortMin) {
      throw invalidArgument(`${field}.port`, `must be 0 (allocated at start) or between ${LIMITS.consolePortMin} and ${LIMITS.consolePortMax}, got ${port}`);
    }
  }
}

const CLOUD_INIT_FIELDS = [
  ["userData", "user_data"],
  ["metaData", "meta_data"],
  ["networkConfig", "network_config"],
  ["vendorData", "vendor_data"],
] as const;

/** NoCloud data: text (it rides in the domain XML too), each file bounded (so is the total). */
function validateCloudInit(v: unknown, field: string): void {
  if (v === undefined) return;
  const c = object(v, field);
  for (const [key, wire] of CLOUD_INIT_FIELDS) {
    const f = `${field}.${wire}`;
    const text = c[key] ?? "";
    if (typeof text !== "string") throw invalidArgument(f, `must be a string, got ${show(text)}`);
    if (CONTROL_EXCEPT_WHITESPACE_RE.test(text)) {
      throw invalidArgument(f, "must be text: no control characters other than tab, newline and carriage return");
    }
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > LIMITS.cloudInitPartMaxBytes) {
      throw invalidArgument(f, `must be at most ${LIMITS.cloudInitPartMaxBytes} bytes, got ${bytes}`);
    }
  }
}

/** A guest_os profile name; unknown names are allowed (they mean generic_linux), "" too. */
function validateGuestOs(v: unknown, field: string): void {
  if (v === undefined) return;
  if (typeof v !== "string") throw invalidArgument(field, `must be a string, got ${show(v)}`);
  if (v.length > LIMITS.guestOsMaxChars || !GUEST_OS_RE.test(v)) {
    throw invalidArgument(field, `must be at most ${LIMITS.guestOsMaxChars} characters of a-z 0-9 _ (e.g. "debian", "windows_server"), got ${show(v)}`);
  }
}

/** Labels of a VM, and ListVMs' label selector: the same keys and values. */
export function validateLabels(v: unknown, field: string): void {
  const labels = object(v, field);
  const keys = Object.keys(labels);
  if (keys.length > LIMITS.labelsMax) throw invalidArgument(field, `at most ${LIMITS.labelsMax} labels are allowed, got ${keys.length}`);
  for (const key of keys) {
    const keyField = `${field}[${show(key)}]`;
    if (key.length === 0 || key.length > LIMITS.labelKeyMaxChars || !LABEL_KEY_RE.test(key)) {
      throw invalidArgument(keyField, `key must be 1-${LIMITS.labelKeyMaxChars} characters of A-Z a-z 0-9 . _ / -`);
    }
    const value = labels[key];
    if (typeof value !== "string") throw invalidArgument(keyField, `value must be a string, got ${show(value)}`);
    if (value.length > LIMITS.labelValueMaxChars) {
      throw invalidArgument(keyField, `value must be at most ${LIMITS.labelValueMaxChars} characters, got ${value.length}`);
    }
    if (CONTROL_RE.test(value)) throw invalidArgument(keyField, "value must not contain control characters");
  }
}

function validateHostDevices(v: unknown, field: string): void {
  const devices = list(v, field, LIMITS.hostDevicesMax, "host devices");
  const seen = new Map<string, number>();
  devices.forEach((raw, i) => {
    const f = `${field}[${i}]`;
    const dev = object(raw, f);
    const address = requiredString(dev.pciAddress, `${f}.pci_address`);
    const m = PCI_RE.exec(address);
    if (!m || Number.parseInt(m[3] ?? "", 16) > 0x1f) {
      throw invalidArgument(`${f}.pci_address`, `must be a PCI address DDDD:BB:SS.F like 0000:01:00.0, got ${show(address)}`);
    }
    const canonical = address.toLowerCase();
    const other = seen.get(canonical);
    if (other !== undefined) throw invalidArgument(`${f}.pci_address`, `${show(address)} is used by host_devices[${other}]`);
    seen.set(canonical, i);
    bool(dev.romBar, `${f}.rom_bar`);
  });
}

/**
 * The whole spec, reporting the first fault as `<path>.<field>: <rule>`; duplicates as
 * `<field>[i].<sub>: "x" is used by <list>[j]`.
 */
export function validateVmSpec(spec: VmSpec, path = "spec", options: ValidationOptions = {}): void {
  const s = object(spec as unknown, path);
  name(s.name, `${path}.name`);
  validateCpu(s.cpu, `${path}.cpu`);
  int(s.memoryMib, `${path}.memory.size_mib`, LIMITS.memoryMibMin, LIMITS.memoryMibMax);
  if (bool(s.hugepages, `${path}.memory.hugepages`) && (s.memoryMib as number) % 2 !== 0) {
    throw invalidArgument(`${path}.memory.size_mib`, `must be a multiple of 2 with hugepages (2 MiB pages), got ${s.memoryMib}`);
  }

  const disks = list(s.disks, `${path}.disks`, LIMITS.disksMax, "disks");
  for (const [i, d] of disks.entries()) validateDiskSpec(d as DiskSpec, `${path}.disks[${i}]`, options);
  const diskObjs = disks as Obj[];
  unique(diskObjs, (d) => d.id, `${path}.disks`, "disks", "id");
  unique(diskObjs, (d) => (d.bootOrder === 0 ? undefined : d.bootOrder), `${path}.disks`, "disks", "boot_order");
  // Two writable disks on one image corrupt it; a shared read-only ISO is fine.
  unique(diskObjs, (d) => (typeof d.path === "string" && d.path !== "" && !d.readonly ? d.path : undefined), `${path}.disks`, "disks", "path");
  unique(
    diskObjs,
    (d) => (typeof d.volume === "string" && d.volume !== "" && !d.readonly ? `${typeof d.pool === "string" ? d.pool : ""}/${d.volume}` : undefined),
    `${path}.disks`,
    "disks",
    "volume",
  );

  const nics = list(s.nics, `${path}.nics`, LIMITS.nicsMax, "NICs");
  for (const [i, n] of nics.entries()) validateNicSpec(n as NicSpec, `${path}.nics[${i}]`);
  const nicObjs = nics as Obj[];
  unique(nicObjs, (n) => n.id, `${path}.nics`, "nics", "id");
  unique(nicObjs, (n) => (typeof n.mac === "string" && n.mac !== "" ? n.mac.toLowerCase() : undefined), `${path}.nics`, "nics", "mac");
  // libvirt numbers boot devices across disks and NICs: one order, one device.
  nicObjs.forEach((n, i) => {
    const order = n.bootOrder;
    if (order === undefined || order === 0) return;
    const disk = diskObjs.findIndex((d) => d.bootOrder === order);
    if (disk >= 0) throw invalidArgument(`${path}.nics[${i}].boot_order`, `${show(order)} is used by disks[${disk}]`);
  });
  unique(nicObjs, (n) => (n.bootOrder === 0 ? undefined : n.bootOrder), `${path}.nics`, "nics", "boot_order");

  oneOf(s.firmware, `${path}.firmware`, FIRMWARES);
  validateConsole(s.console, `${path}.console`);
  validateHostDevices(s.hostDevices, `${path}.host_devices`);
  validateLabels(s.labels, `${path}.labels`);

  validateDescription(s.description, `${path}.description`);
  validateCloudInit(s.cloudInit, `${path}.cloud_init`);
  validateGuestOs(s.guestOs, `${path}.guest_os`);
}

/** Free text (VM and snapshot descriptions): bounded, and nothing XML 1.0 cannot carry. */
export function validateDescription(v: unknown, field: string): string {
  if (typeof v !== "string") throw invalidArgument(field, `must be a string, got ${show(v)}`);
  if (v.length > LIMITS.descriptionMaxChars) {
    throw invalidArgument(field, `must be at most ${LIMITS.descriptionMaxChars} characters, got ${v.length}`);
  }
  if (CONTROL_EXCEPT_WHITESPACE_RE.test(v)) {
    throw invalidArgument(field, "must not contain control characters other than tab and newline");
  }
  return v;
}

/** A disk or NIC id as DetachDisk and DetachNIC name it: the rule AttachDisk/AttachNIC apply. */
export function validateDeviceId(v: unknown, field: string): string {
  const id = requiredString(v, field);
  if (!DEVICE_ID_RE.test(id)) {
    throw invalidArgument(field, `must be 1-32 characters of a-z 0-9 _ - starting with a letter or digit, got ${show(id)}`);
  }
  return id;
}

/** Snapshot names end up in libvirt XML and in file names of external snapshots. */
export function validateSnapshotName(v: unknown, field = "name"): string {
  return name(v, field);
}

const MIGRATION_SCHEMES = ["qemu", "qemu+tcp", "qemu+tls", "qemu+ssh", "qemu+unix", "tcp"];

/** A libvirt destination URI such as qemu+ssh://node-2.example/system; returns its host. */
export function validateMigrationUri(v: unknown, field = "target_uri"): URL {
  const s = requiredString(v, field);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw invalidArgument(field, `must be a URI like qemu+tls://node-2.example/system, got ${show(s)}`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (!MIGRATION_SCHEMES.includes(scheme)) {
    throw invalidArgument(field, `scheme must be one of ${MIGRATION_SCHEMES.join(", ")}, got ${show(scheme)}`);
  }
  if (url.hostname === "") throw invalidArgument(field, `must name the target host, got ${show(s)}`);
  if (s.length > LIMITS.uriMaxChars) throw invalidArgument(field, `must be at most ${LIMITS.uriMaxChars} characters, got ${s.length}`);
  if (url.password !== "") throw invalidArgument(field, "must not carry a password; use keys or TLS certificates");
  // libvirt reads transport options from the query (command=, netcat=, keyfile=, socket=): from
  // an API caller they would run or read arbitrary files on this host.
  if (url.search !== "" || url.hash !== "") throw invalidArgument(field, "must not carry query parameters or a fragment");
  return url;
}
