// The backend-neutral model of VMs on one host. The mock and the libvirt backend both speak
// it; only server/ translates it to and from protobuf. Sizes are bytes or MiB as named,
// durations milliseconds, times Date.

export type VmState =
  | "stopped"
  | "running"
  | "paused"
  | "shutting_down"
  | "crashed"
  | "suspended"
  | "migrating";

export type CpuMode = "host-passthrough" | "host-model" | "custom";
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
  /** Exactly one of path and newImage is set. */
  path?: string;
  newImage?: NewDiskImage;
  bus: DiskBus;
  /** 1 boots first; 0 not bootable. */
  bootOrder: number;
  readonly: boolean;
  device: DiskDevice;
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
}

export interface ConsoleSpec {
  type: ConsoleType;
  password?: string;
  listen?: string;
}

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

export interface VmMetrics {
  vmId: string;
  name: string;
  state: VmState;
  cpuUsagePercent: number;
  cpuTimeNs: number;
  vcpus: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskReadOps: number;
  diskWriteOps: number;
  networkRxBytes: number;
  networkTxBytes: number;
  networkRxPackets: number;
  networkTxPackets: number;
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
}

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

  /** Yields progress until the migration ends; aborting the signal cancels it. */
  migrateVm(id: string, opts: MigrateOptions, signal: AbortSignal): AsyncIterable<MigrationProgress>;

  attachDisk(id: string, disk: DiskSpec): Promise<VmStatus>;
  detachDisk(id: string, diskId: string): Promise<VmStatus>;
  attachNic(id: string, nic: NicSpec): Promise<VmStatus>;
  detachNic(id: string, nicId: string): Promise<VmStatus>;

  /** Per-VM figures for every VM (or the given ones); cheap enough to call once per metrics tick. */
  vmMetrics(ids?: string[]): Promise<VmMetrics[]>;

  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: HypervisorEventListener): () => void;

  close(): Promise<void>;
}
