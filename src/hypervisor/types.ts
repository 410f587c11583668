// The backend-neutral model of VMs on one host. The mock and the libvirt backend both speak
// it; only server/ translates it to and from protobuf. Sizes are bytes or MiB as named,
// durations milliseconds, times Date.

import type { NewVolume, PoolDefinition, PoolInfo, VolumeAttachInfo, VolumeInfo } from "./storage-types.ts";

export type VmState = "stopped" | "running" | "paused" | "shutting_down" | "crashed" | "suspended" | "migrating";

/** auto: the host's CPU under KVM, QEMU's "maximum" CPU under TCG (hosts without /dev/kvm). */
export type CpuMode = "auto" | "host-passthrough" | "host-model" | "custom" | "maximum";
export type DiskFormat = "qcow2" | "raw";
export type DiskBus = "virtio" | "scsi" | "sata" | "ide";
export type DiskDevice = "disk" | "cdrom";
export type NicModel = "virtio" | "e1000" | "rtl8139";
export type Firmware = "bios" | "uefi";
export type ConsoleType = "vnc" | "spice" | "none";

export interface CpuSpec {
  sockets: number;
  coresPerSocket: number;
  threadsPerCore: number;
  mode: CpuMode;
  /** Only for mode "custom". */
  model?: string;
}

export interface NewDiskImage {
  sizeBytes: number;
  format: DiskFormat;
  backingPath?: string;
}

export interface DiskSpec {
  /** Caller-chosen, unique within the VM. */
  id: string;
  /**
   * An existing image (or ISO for a CD-ROM) by absolute path. At most one of path and volume;
   * a disk has path, volume or newImage, a CD-ROM may have neither (empty drive).
   */
  path?: string;
  /**
   * A volume (file) by name in `pool` (a CD-ROM's ISO: a path relative to any pool). A disk's
   * volume that does not exist yet is created from newImage.
   */
  volume?: string;
  /** How to create the image when it does not exist: a new volume in `pool`. */
  newImage?: NewDiskImage;
  /** Storage pool id of volume/newImage; undefined: the node's default storage. */
  pool?: string;
  bus: DiskBus;
  /** 1 boots first; 0 not bootable. */
  bootOrder: number;
  readonly: boolean;
  device: DiskDevice;
  /** libvirt <iotune>: total IOPS and total MB/s; undefined or 0 unlimited. */
  iopsLimit?: number;
  throughputMbps?: number;
  /** Filled in by the backend: guest device name (vda, sdb). */
  target?: string;
  /** Filled in by the backend: the image's path on the host. */
  resolvedPath?: string;
}

export interface NicSpec {
  id: string;
  /** Exactly one of bridge and network is set. */
  bridge?: string;
  network?: string;
  /** Filled in by the backend when empty. */
  mac?: string;
  model: NicModel;
  /** Average bandwidth limit in both directions; undefined or 0 unlimited. */
  bandwidthMbps?: number;
  /** 1 boots first; 0 or undefined: not a boot device. */
  bootOrder?: number;
}

export interface ConsoleSpec {
  type: ConsoleType;
  password?: string;
  listen?: string;
  /** Fixed port; undefined: allocated when the VM starts. */
  port?: number;
}

/** NoCloud data for cloud-init, written verbatim to a CD-ROM labelled "cidata". */
export interface CloudInit {
  userData: string;
  /** Empty: instance-id and local-hostname generated from the VM's id and name. */
  metaData: string;
  networkConfig: string;
  vendorData: string;
  /**
   * Set on a spec read back from a backend, whose data parts are then empty: the data can hold
   * secrets (passwords, keys), so backends keep only this digest (cloudInitDigest) beside the VM.
   */
  digest?: string;
}

/** Id of the CD-ROM the node adds for cloud-init; callers may not use it. */
export const CLOUD_INIT_CDROM_ID = "cloud-init";

export interface HostDevice {
  /** "0000:01:00.0" */
  pciAddress: string;
  romBar: boolean;
}

export interface VmSpec {
  name: string;
  cpu: CpuSpec;
  memoryMib: number;
  hugepages: boolean;
  disks: DiskSpec[];
  nics: NicSpec[];
  firmware: Firmware;
  console: ConsoleSpec;
  hostDevices: HostDevice[];
  labels: Record<string, string>;
  description: string;
  /** Absent: no cloud-init CD-ROM. */
  cloudInit?: CloudInit;
  /** Guest OS profile (timers, video, Hyper-V enlightenments); "" = generic_linux. */
  guestOs: string;
}

export interface ResourceUsage {
  cpuUsagePercent: number;
  cpuTimeNs: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
}

export interface VmStatus {
  id: string;
  name: string;
  state: VmState;
  stateReason: string;
  spec: VmSpec;
  usage: ResourceUsage;
  createdAt?: Date;
  startedAt?: Date;
  snapshotCount: number;
  currentSnapshot?: string;
}

export interface ConsoleInfo {
  type: ConsoleType;
  /** The address the console listens on; a wildcard (0.0.0.0, ::) means every address. */
  host: string;
  port: number;
  password?: string;
  websocketPath?: string;
  websocketPort?: number;
  tlsPort?: number;
}

export interface SnapshotOptions {
  /** Generated when empty. */
  name?: string;
  description?: string;
  includeMemory: boolean;
  quiesce: boolean;
}

export interface Snapshot {
  vmId: string;
  name: string;
  description: string;
  createdAt: Date;
  /** Parent snapshot name; undefined for a root. */
  parent?: string;
  vmState: VmState;
  current: boolean;
  hasMemory: boolean;
  /** Set when quiesce was asked for: whether the guest's filesystems were frozen for it. */
  quiesced?: boolean;
}

export interface MigrateOptions {
  targetUri: string;
  live: boolean;
  maxDowntimeMs?: number;
  bandwidthMibPerS?: number;
  copyStorage: boolean;
}

export type MigrationPhase = "starting" | "transferring" | "completed" | "failed" | "cancelled";

export interface MigrationProgress {
  vmId: string;
  phase: MigrationPhase;
  percent: number;
  dataTotalBytes: number;
  dataProcessedBytes: number;
  dataRemainingBytes: number;
  elapsedMs: number;
  message: string;
}

/** A VM's disk and network counters since its QEMU process started. */
export interface VmIoCounters {
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
  networkRxBytes: number;
  networkTxBytes: number;
  networkRxPackets: number;
  networkTxPackets: number;
}

/** Every I/O counter at zero: a VM whose counters have not started (or restarted with its process). */
export const zeroIoCounters = (): VmIoCounters => ({
  diskReadBytes: 0,
  diskWriteBytes: 0,
  diskReadOps: 0,
  diskWriteOps: 0,
  networkRxBytes: 0,
  networkTxBytes: 0,
  networkRxPackets: 0,
  networkTxPackets: 0,
});

export interface VmMetrics extends VmIoCounters {
  vmId: string;
  name: string;
  state: VmState;
  cpuUsagePercent: number;
  cpuTimeNs: number;
  vcpus: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

export interface HypervisorInfo {
  backend: "mock" | "libvirt";
  /** e.g. "QEMU" */
  name: string;
  version: string;
  uri: string;
  libvirtVersion?: string;
}

export interface Capabilities {
  liveMigration: boolean;
  snapshots: boolean;
  hotPlug: boolean;
  gpuPassthrough: boolean;
  maxVcpus: number;
  maxMemoryBytes: number;
  diskFormats: DiskFormat[];
  uefi: boolean;
  /** Guests get hardware acceleration (KVM); false: QEMU emulates the CPU (TCG). */
  hardwareAcceleration: boolean;
  /** libvirt domain type of new guests: "kvm", "qemu" (TCG), or "mock". */
  domainType: string;
}

// Storage pools and volumes: their own file, re-exported here.
export * from "./storage-types.ts";

export type HypervisorEventType =
  | "vm_created"
  | "vm_deleted"
  | "vm_state_changed"
  | "snapshot_created"
  | "snapshot_reverted"
  | "snapshot_deleted"
  | "disk_attached"
  | "disk_detached"
  | "nic_attached"
  | "nic_detached"
  | "migration_started"
  | "migration_completed"
  | "migration_failed"
  | "operation_failed"
  | "media_changed"
  /** The Quantix agent inside the VM answered on its channel, or stopped answering (src/agent). */
  | "agent_connected"
  | "agent_disconnected"
  | "node";

/** What a backend reports; the events concern gives it an id and a timestamp. */
export interface HypervisorEvent {
  type: HypervisorEventType;
  vmId?: string;
  vmName?: string;
  state?: VmState;
  previousState?: VmState;
  message: string;
  details?: Record<string, string>;
}

export type HypervisorEventListener = (event: HypervisorEvent) => void;

export interface ListFilter {
  labelSelector?: Record<string, string>;
  states?: VmState[];
}

/**
 * One host's hypervisor. Every method rejects with a HypervisorError (see errors.ts) whose kind
 * says what went wrong; nothing else escapes. Operations on one VM may be called concurrently:
 * the backend must keep its state consistent (serialize per VM).
 */
export interface Hypervisor {
  readonly backend: "mock" | "libvirt";

  info(): Promise<HypervisorInfo>;
  capabilities(): Promise<Capabilities>;
  /** True while the backend can serve (libvirt: connected). */
  healthy(): { ok: boolean; message?: string };

  createVm(id: string, spec: VmSpec): Promise<{ vm: VmStatus; created: boolean }>;
  startVm(id: string): Promise<VmStatus>;
  /** Graceful (ACPI). Rejects with kind "timeout" when the guest is still up after timeoutMs. */
  stopVm(id: string, timeoutMs: number): Promise<VmStatus>;
  forceStopVm(id: string): Promise<VmStatus>;
  rebootVm(id: string): Promise<VmStatus>;
  pauseVm(id: string): Promise<VmStatus>;
  resumeVm(id: string): Promise<VmStatus>;
  /** Returns the paths of the disks it deleted. */
  deleteVm(id: string, opts: { deleteDisks: boolean; force: boolean }): Promise<{ deletedDisks: string[] }>;

  getVm(id: string): Promise<VmStatus>;
  listVms(filter?: ListFilter): Promise<VmStatus[]>;
  getConsole(id: string): Promise<ConsoleInfo>;

  createSnapshot(id: string, opts: SnapshotOptions): Promise<Snapshot>;
  revertSnapshot(id: string, name: string): Promise<VmStatus>;
  deleteSnapshot(id: string, name: string): Promise<void>;
  listSnapshots(id: string): Promise<Snapshot[]>;
  /**
   * One command to the QEMU guest agent (qemu-ga) in the VM, as qemu-ga's JSON ({"execute":
   * "guest-ping"}); resolves with its JSON answer. Absent on backends without one (the mock).
   */
  qemuAgentCommand?(id: string, command: string, timeoutSeconds: number): Promise<string>;

  /** Yields progress until the migration ends; aborting the signal cancels it. */
  migrateVm(id: string, opts: MigrateOptions, signal: AbortSignal): AsyncIterable<MigrationProgress>;

  attachDisk(id: string, disk: DiskSpec): Promise<VmStatus>;
  detachDisk(id: string, diskId: string): Promise<VmStatus>;
  attachNic(id: string, nic: NicSpec): Promise<VmStatus>;
  detachNic(id: string, nicId: string): Promise<VmStatus>;
  /** Inserts (a path or pool-relative volume) or, with neither, ejects a CD-ROM's medium. */
  changeMedia(id: string, cdromId: string, medium: { path?: string; volume?: string }): Promise<VmStatus>;

  /** Defines (persistent, autostarted) and starts a pool, or checks an existing one matches. */
  initPool(def: PoolDefinition): Promise<PoolInfo>;
  /** DEFAULT_POOL_ID is the node's own storage. */
  getPool(id: string): Promise<PoolInfo>;
  listPools(): Promise<PoolInfo[]>;
  /**
   * Grows a volume of a pool to newSizeBytes (never shrinks). With DEFAULT_POOL_ID a VM disk's
   * id names its image too, in whatever pool it lives (the control plane sends "default" for
   * every disk it resizes); an id several VMs use is refused. A disk of a running VM is resized
   * live (the guest sees it).
   */
  resizeVolume(poolId: string, volume: string, newSizeBytes: number): Promise<VolumeInfo>;
  /**
   * Stops the pool and removes its definition (files, exports and images stay). Refused while a
   * VM has a disk in it (invalid_state naming the VM) and for DEFAULT_POOL_ID.
   */
  destroyPool(id: string): Promise<void>;
  listVolumes(poolId: string): Promise<VolumeInfo[]>;
  /** already_exists when the pool has a volume of that name. */
  createVolume(poolId: string, volume: NewVolume): Promise<VolumeInfo>;
  /** Refused while a VM has it as a disk (invalid_state naming the VM). */
  deleteVolume(poolId: string, volume: string): Promise<VolumeInfo>;
  /** A full, independent copy in the same pool. */
  cloneVolume(poolId: string, source: string, dest: string): Promise<VolumeInfo>;
  volumeAttachInfo(poolId: string, volume: string): Promise<VolumeAttachInfo>;
  /**
   * A point-in-time copy of a volume no running VM writes to, kept in the pool as the volume
   * "<volume>@<snapshot>"; CreateVolume with a snapshot source overlays it.
   */
  snapshotVolume(poolId: string, volume: string, snapshot: string): Promise<VolumeInfo>;

  /** Per-VM figures for every VM (or the given ones); cheap enough to call once per metrics tick. */
  vmMetrics(ids?: string[]): Promise<VmMetrics[]>;

  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: HypervisorEventListener): () => void;

  close(): Promise<void>;
}
