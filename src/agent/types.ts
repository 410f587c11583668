// The guest as its agent describes it, in the daemon's own terms (no protobuf): what AgentReady
// said and the latest Telemetry. server/ turns it into GuestAgentInfo; the REST calls into JSON.

export interface GuestInterface {
  name: string;
  macAddress: string;
  ipv4Addresses: string[];
  ipv6Addresses: string[];
  isUp: boolean;
}

export interface GuestDisk {
  mountPoint: string;
  device: string;
  filesystem: string;
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  usagePercent: number;
}

export interface GuestUsage {
  cpuUsagePercent: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  memoryAvailableBytes: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
  loadAvg1: number;
  loadAvg5: number;
  loadAvg15: number;
  disks: GuestDisk[];
  processCount: number;
  uptimeSeconds: number;
}

export interface GuestFacts {
  /** The agent answers on its channel right now. */
  connected: boolean;
  version?: string;
  osName?: string;
  osVersion?: string;
  kernelVersion?: string;
  architecture?: string;
  hostname?: string;
  ipAddresses: string[];
  interfaces: GuestInterface[];
  /** Absent until the first Telemetry. */
  usage?: GuestUsage;
  capabilities: string[];
  /** When the agent last sent anything. */
  lastSeen?: Date;
}

export interface ExecOptions {
  command: string;
  args?: string[];
  /** 0: 60 s. */
  timeoutSeconds?: number;
  workingDirectory?: string;
  environment?: Record<string, string>;
  waitForExit?: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
  /** What the guest said went wrong ("" when nothing). */
  error: string;
}

export interface FileChunk {
  data: Uint8Array;
  offset: number;
  totalSize: number;
  eof: boolean;
}

export interface DirectoryEntry {
  name: string;
  path: string;
  isDirectory: boolean;
  isSymlink: boolean;
  sizeBytes: number;
  mode: number;
  modifiedAt?: Date;
  owner?: string;
  group?: string;
}

export interface FrozenFilesystem {
  mountPoint: string;
  device: string;
  filesystem: string;
  frozen: boolean;
  error: string;
}
