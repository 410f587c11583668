// What the telemetry concern offers the rest of the daemon. Figures the kernel did not report
// stay undefined (absent is not zero); rates are per second over the interval since the
// previous sample and are undefined on the first sample.

export interface CpuTimes {
  /** Seconds spent in each mode (USER_HZ ticks / 100 converted to seconds). */
  user: number;
  nice: number;
  system: number;
  idle: number;
  irq: number;
  /** Modes only Linux's /proc/stat splits out; absent when the times come from the os module. */
  iowait?: number;
  softirq?: number;
  steal?: number;
  guest?: number;
  guestNice?: number;
}

export interface CpuSample {
  total: CpuTimes;
  /** Keyed by cpu index as the kernel numbers them ("0", "1", ...); offline CPUs are absent. */
  perCpu: Map<string, CpuTimes>;
  /** 0-100 over the interval since the previous sample. */
  usagePercent?: number;
  perCpuUsagePercent?: Map<string, number>;
}

export interface MemorySample {
  totalBytes: number;
  availableBytes?: number;
  freeBytes?: number;
  buffersBytes?: number;
  cachedBytes?: number;
  swapTotalBytes?: number;
  swapFreeBytes?: number;
  hugepages2mTotal?: number;
  hugepages2mFree?: number;
  hugepages1gTotal?: number;
  hugepages1gFree?: number;
  /** Every key of /proc/meminfo in bytes (kB converted), for the Prometheus endpoint. */
  raw: Map<string, number>;
  /** Keys of raw that are counts, not bytes (no kB unit in the file: HugePages_Total, ...). */
  countKeys?: ReadonlySet<string>;
}

export interface LoadSample {
  load1: number;
  load5: number;
  load15: number;
  runnable?: number;
  threads?: number;
}

export interface DiskSample {
  device: string;
  readsCompleted: number;
  writesCompleted: number;
  readBytes: number;
  writeBytes: number;
  ioTimeMs: number;
  readBytesPerSecond?: number;
  writeBytesPerSecond?: number;
  readsPerSecond?: number;
  writesPerSecond?: number;
  /** Share of the interval with I/O in flight (iostat's %util); absent on the first sample. */
  utilizationPercent?: number;
  readsMerged?: number;
  writesMerged?: number;
  readTimeMs?: number;
  writeTimeMs?: number;
  ioInProgress?: number;
  weightedIoTimeMs?: number;
}

export interface FilesystemSample {
  path: string;
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  /** Free including the root reserve (statfs f_bfree). */
  freeBytes?: number;
  files?: number;
  filesFree?: number;
  /** The mount the path lives on (from /proc/self/mounts). */
  mountpoint?: string;
  device?: string;
  fstype?: string;
}

export interface NetInterfaceSample {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  rxBytesPerSecond?: number;
  txBytesPerSecond?: number;
  rxFifo?: number;
  rxFrame?: number;
  rxCompressed?: number;
  rxMulticast?: number;
  txFifo?: number;
  txCollisions?: number;
  txCarrier?: number;
  txCompressed?: number;
}

/** The kernel-wide counters of /proc/stat (node_exporter's node_boot_time_seconds, node_context_switches_total, ...). */
export interface KernelCounters {
  bootTimeSeconds?: number;
  contextSwitches?: number;
  interrupts?: number;
  forks?: number;
  procsRunning?: number;
  procsBlocked?: number;
}

/**
 * One source of host figures (a /proc or /sys file, statfs) and how its last read went. A source
 * that failed leaves only the figures it feeds absent, or taken from the os module (`effect` says which).
 */
export interface SourceStatus {
  /** The file read ("/proc/meminfo"), or what was read ("statfs /var/lib/limiquantix"). */
  source: string;
  /** Why it could not be read; absent when the read worked. */
  error?: string;
  /** What its failure costs, e.g. "memory from the os module, swap absent". */
  effect?: string;
}

/**
 * One reading of the host. Every source is read on its own: a figure whose source failed is
 * undefined (a list: undefined, not empty) unless the os module supplies it (CPU times, memory,
 * load, uptime, uname), and the failure is in `sources`.
 */
export interface HostSample {
  timestamp: Date;
  cpu?: CpuSample;
  memory?: MemorySample;
  load?: LoadSample;
  uptimeSeconds?: number;
  /** Undefined when /proc/diskstats could not be read (an empty list means no disks). */
  disks?: DiskSample[];
  filesystems: FilesystemSample[];
  /** Undefined when /proc/net/dev could not be read. */
  network?: NetInterfaceSample[];
  kernel?: KernelCounters;
  /** What uname reports; the names (which an operator may change) read again every 10 s (REREAD_AFTER_MS). */
  uname?: UnameSample;
  /** Every source this sample read, with the failures; absent in samples built by hand. */
  sources?: SourceStatus[];
}

export interface UnameSample {
  /** "Linux" from /proc; os.type() otherwise ("Darwin"). */
  sysname?: string;
  nodename: string;
  release: string;
  machine: string;
  version?: string;
  domainname?: string;
}

export interface PciDeviceInfo {
  address: string;
  vendorId: string;
  deviceId: string;
  classCode: string;
  className: string;
  driver?: string;
  iommuGroup?: number;
  isGpu: boolean;
  vendorName?: string;
}

/**
 * Who the host is. /proc and /sys first; where they are missing (a Mac in --dev, a wrong proc
 * root) the os module supplies hostname, kernel, CPU model and count, and memory. What neither
 * knows stays undefined.
 */
export interface HostIdentity {
  hostname: string;
  os: { name: string; version?: string; kernel: string; arch: string };
  cpu: {
    model: string;
    sockets?: number;
    coresPerSocket?: number;
    threadsPerCore?: number;
    totalThreads: number;
    onlineCpus: number;
    mhz?: number;
    flags?: string[];
    /** Hardware virtualization (vmx/svm) in the CPU flags; undefined without flags. */
    virtualization?: boolean;
  };
  memory: {
    totalBytes: number;
    availableBytes?: number;
    hugepages2mTotal?: number;
    hugepages2mFree?: number;
    hugepages1gTotal?: number;
    hugepages1gFree?: number;
  };
  /** Undefined when /sys/devices/system cannot be read. */
  numaNodes?: number;
  /** Devices that can be passed through to VMs, GPUs first; undefined when /sys/bus/pci cannot be read. */
  pciDevices?: PciDeviceInfo[];
  /** Every source the identity read, with the failures. */
  sources?: SourceStatus[];
}

/** Reads the host. One instance per daemon; the proc and sys roots are configurable. */
export interface Telemetry {
  identity(): Promise<HostIdentity>;
  /** Reads every source once and computes rates against the previous call. */
  sample(): Promise<HostSample>;
  /** Closes the files kept open between samples. */
  close(): void;
}

export interface TelemetryOptions {
  procRoot: string;
  sysRoot: string;
  /** Where /etc/os-release is looked up ("/etc" normally). */
  etcRoot: string;
  /** Filesystems whose capacity is reported (the storage path and "/"). */
  filesystemPaths: string[];
}
