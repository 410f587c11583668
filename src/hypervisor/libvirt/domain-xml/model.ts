// The typed domain model: the parts of libvirt's <domain> this project writes and reads, shaped
// like the XML (names follow libvirt's elements). Configurators produce it from a VmSpec, the
// writer serialises it, the reader fills it from libvirt's XML. Optional fields are absent in the
// XML when undefined.

export interface DomainDef {
  type: string;
  /** Present only in live XML (`<domain id='3'>`). */
  runtimeId?: number;
  name: string;
  uuid: string;
  /** libvirt's own <description>; we keep ours in metadata but read this as a fallback. */
  description?: string;
  metadata?: LqMetadata;
  memoryKib: number;
  currentMemoryKib?: number;
  hugepages: boolean;
  vcpus: number;
  cpu?: CpuDef;
  os: OsDef;
  features: FeaturesDef;
  clock?: ClockDef;
  onPoweroff?: string;
  onReboot?: string;
  onCrash?: string;
  devices: DevicesDef;
}

export interface CpuDef {
  mode: string;
  match?: string;
  check?: string;
  migratable?: string;
  model?: { name: string; fallback?: string };
  topology?: { sockets: number; dies?: number; cores: number; threads: number };
  /** `<feature policy='disable' name='...'/>` and friends; host-model expansion adds many. */
  features?: CpuFeatureDef[];
}

export interface CpuFeatureDef {
  /** force, require, optional, disable, forbid */
  policy: string;
  name: string;
}

export interface OsDef {
  /** `<os firmware='efi'>` (libvirt's automatic firmware selection). */
  firmware?: string;
  arch?: string;
  machine?: string;
  loader?: { path: string; readonly?: string; type?: string; secure?: string };
  nvram?: { path: string; template?: string };
}

export interface FeaturesDef {
  acpi: boolean;
  apic: boolean;
  /** `<hyperv>`: Hyper-V enlightenments for Windows guests (KVM only). */
  hyperv?: HypervDef;
  /** `<smm state='on'/>`, required by secure boot. */
  smm?: boolean;
}

export interface HypervDef {
  /** libvirt writes mode='custom' in its own XML; absent in ours. */
  mode?: string;
  /** One child element each, in order: `<relaxed state='on'/>`, `<spinlocks state='on' retries='8191'/>`. */
  features: HypervFeatureDef[];
}

export interface HypervFeatureDef {
  name: string;
  state?: string;
  /** spinlocks only. */
  retries?: number;
  /** vendor_id only. */
  value?: string;
}

export interface ClockDef {
  offset: string;
  timers: TimerDef[];
}

export interface TimerDef {
  name: string;
  tickpolicy?: string;
  present?: string;
}

export interface DevicesDef {
  emulator?: string;
  disks: DiskDef[];
  controllers: ControllerDef[];
  interfaces: InterfaceDef[];
  serials: CharDeviceDef[];
  consoles: CharDeviceDef[];
  channels: ChannelDef[];
  inputs: { type: string; bus?: string }[];
  graphics: GraphicsDef[];
  videos: VideoDef[];
  hostdevs: HostdevDef[];
  memballoon?: { model: string };
  rngs: { model: string; backendModel: string; backend: string }[];
}

/** `<video><model type vram heads primary/></video>`; vram in KiB. */
export interface VideoDef {
  model: string;
  vram?: number;
  heads?: number;
  primary?: string;
}

export interface DiskDef {
  /** file, block, network, volume */
  type: string;
  device: string;
  driver?: { name: string; type?: string; cache?: string; io?: string; discard?: string };
  /** source file (type file), dev (type block) or name (type network: "<rbd pool>/<image>"); absent for an empty cdrom. */
  source?: string;
  /** Type network only: the protocol, servers and credentials beside the source name. */
  network?: NetworkDiskSourceDef;
  target: { dev: string; bus?: string };
  /** `<iotune>`: only the totals this project writes; absent when there is no limit. */
  iotune?: IotuneDef;
  bootOrder?: number;
  readonly: boolean;
  alias?: string;
}

/**
 * A disk served over the network by QEMU itself (Ceph RBD through librbd): `<source
 * protocol='rbd' name='pool/image'><host .../></source>` and `<auth username><secret type='ceph'
 * uuid/></auth>`.
 */
export interface NetworkDiskSourceDef {
  protocol: string;
  hosts: { name: string; port?: number }[];
  auth?: { username: string; secretType: string; secretUuid: string };
}

export interface IotuneDef {
  totalBytesSec?: number;
  totalIopsSec?: number;
}

export interface ControllerDef {
  type: string;
  index?: number;
  model?: string;
}

export interface InterfaceDef {
  /** bridge, network (others are read but not understood) */
  type: string;
  mac?: string;
  /** source bridge= or network= depending on type */
  source?: string;
  model?: string;
  /** `<bandwidth>`: averages in KiB/s (libvirt's "kilobytes"), per direction. */
  bandwidth?: { inbound?: number; outbound?: number };
  bootOrder?: number;
  alias?: string;
  /** Live XML only: the host tap device. */
  targetDev?: string;
}

export interface CharDeviceDef {
  type: string;
  targetType?: string;
  targetPort?: number;
  /** Live XML only: the pty path. */
  sourcePath?: string;
}

export interface ChannelDef {
  type: string;
  targetType: string;
  targetName?: string;
  sourcePath?: string;
}

export interface GraphicsDef {
  type: string;
  /** Absent or -1 until QEMU runs with autoport. */
  port?: number;
  tlsPort?: number;
  autoport: boolean;
  listen?: string;
  passwd?: string;
  listens: { type: string; address?: string; network?: string }[];
}

export interface HostdevDef {
  mode: string;
  type: string;
  managed?: string;
  /** Source PCI address parts as numbers. */
  address?: { domain: number; bus: number; slot: number; function: number };
  romBar?: string;
}

/** What we keep under <metadata><lq:vm>. */
export interface LqMetadata {
  createdAt?: string;
  description?: string;
  labels: { key: string; value: string }[];
  /** Per-disk facts the libvirt disk XML cannot carry. */
  disks: LqDiskMeta[];
  /**
   * The CPU mode the spec asked for when the XML shows another: "host-model" (a running
   * domain's live XML shows the expanded CPU, mode='custom' with the host's model) and "auto"
   * (the XML says host-passthrough or maximum, whichever the domain type allows).
   */
  cpuMode?: string;
  /** The spec's guest_os profile as asked (unknown names included); absent: "". */
  guestOs?: string;
  /**
   * SHA-256 of the NoCloud data asked for (cloudInitDigest): enough to answer a repeated
   * CreateVM. Never the data: it can hold secrets, and a domain's XML is readable by anyone
   * with a read-only libvirt connection.
   */
  cloudInitDigest?: string;
}

export interface LqDiskMeta {
  id: string;
  /** The path the caller gave, when it differs from the source libvirt uses. */
  path?: string;
  /** The volume (and its pool) the caller named; the source is where the node found it. */
  volume?: string;
  pool?: string;
  /** The bus the caller asked for when the machine gave another (IDE on q35 becomes SATA). */
  bus?: string;
  newImage?: { sizeBytes: number; format: string; backingPath?: string };
}
