// The effective configuration of the node daemon, after defaults, the YAML file, the
// environment and the command-line flags have been merged (in that order of precedence).
// Every field is filled in except the ones that are truly optional: absent is not zero.

export type HypervisorBackend = "mock" | "libvirt";
export type LogLevel = "silent" | "error" | "warn" | "info" | "debug" | "trace";
export type LogFormat = "text" | "json";

export interface NodeConfig {
  /** Development mode: mock backend, loopback listeners, state under os.tmpdir(). */
  dev: boolean;
  node: {
    /** A UUID; when absent the registration concern asks the control plane for one. */
    id?: string;
    /** When absent, os.hostname() is used. */
    hostname?: string;
    labels: Record<string, string>;
    stateDir: string;
  };
  server: {
    /** host:port of the gRPC / Connect listener. */
    listenAddress: string;
    /**
     * host:port of the optional Bun.serve listener for Connect and gRPC-Web over HTTP/1.1
     * (server/fetch-listener.ts); cleartext only. Absent: no second listener.
     */
    http1ListenAddress?: string;
    metricsPort: number;
    /** Host part only (no port) of the Prometheus listener. */
    metricsListen: string;
    metricsEnabled: boolean;
    maxMessageBytes: number;
    shutdownTimeoutSeconds: number;
  };
  hypervisor: {
    backend: HypervisorBackend;
    libvirtUri: string;
    /** Where VM disks live; the same value as storage.vmImages. */
    storagePath: string;
    /** Address VNC/SPICE consoles listen on. */
    consoleListen: string;
    /** libvirt network for NICs naming none, or naming a control plane network id. */
    defaultNetwork: string;
    stopTimeoutSeconds: number;
    /** Short-lane libvirt call Workers. */
    libvirtWorkers: number;
    /** Long-lane libvirt call Workers (migrations, copies, mounts). */
    libvirtLongWorkers: number;
    /** Calls that may wait per lane before RESOURCE_EXHAUSTED. */
    libvirtQueueLimit: number;
    /** Base deadline of one libvirt call (call-rules.ts scales it per op). */
    libvirtCallDeadlineMs: number;
    /** libvirt CPU feature names disabled on host CPUs (host-passthrough, host-model); may be empty. */
    cpuDisabledFeatures: string[];
  };
  storage: {
    vmImages: string;
    cloudImages: string;
    isoImages: string;
  };
  controlPlane: {
    /** http:// or https:// URL of the control plane's NodeService. */
    address?: string;
    registrationEnabled: boolean;
    heartbeatIntervalSecs: number;
    /** CA bundle that signs the control plane's certificate (https only). */
    caFile?: string;
    /** Address the control plane dials back: a host, or host:port. Wins over detection. */
    managementIp?: string;
  };
  tls: {
    enabled: boolean;
    certPath: string;
    keyPath: string;
    /** When set (and tls.enabled), clients must present a certificate signed by this CA. */
    clientCaPath?: string;
  };
  telemetry: {
    procRoot: string;
    sysRoot: string;
    etcRoot: string;
  };
  agent: {
    socketDir: string;
    /** Unset: loopback and the control plane's address. */
    allowedCallers?: string[];
    bearerTokenFile?: string;
    /** Unset: no REST listener ("off"). */
    restListenAddress?: string;
    restCertPath?: string;
    restKeyPath?: string;
    restClientCaPath?: string;
    pingIntervalSecs: number;
    requestTimeoutSecs: number;
  };
  hostUi: {
    pamService: string;
    adminGroup: string;
    sessionIdleMinutes: number;
    sessionMaxHours: number;
  };
  log: {
    level: LogLevel;
    format: LogFormat;
  };
}

/**
 * Command-line flags as the CLI parsed them. Leave a flag undefined when the user did not
 * give it: an explicit `false` (e.g. `--no-register`) overrides the file and the environment.
 */
export interface ConfigFlags {
  dev?: boolean;
  config?: string;
  listen?: string;
  controlPlane?: string;
  register?: boolean;
  nodeId?: string;
  logLevel?: string;
  logFormat?: string;
  backend?: string;
  libvirtUri?: string;
  storagePath?: string;
  metricsPort?: number | string;
}

export interface LoadConfigInput {
  flags: ConfigFlags;
  env: Record<string, string | undefined>;
  /** Returns the file's text, or undefined when it does not exist. May throw for other errors. */
  readFile?: (path: string) => string | undefined;
  fileExists?: (path: string) => boolean;
}

/** Where the effective value of a key came from, e.g. "default", "file", "env LIMIQUANTIX_LOG_LEVEL", "flag --listen". */
export type ConfigOrigins = Record<string, string>;

export interface LoadConfigResult {
  config: NodeConfig;
  warnings: string[];
  /** The config file that was read, or undefined when none was. */
  source: string | undefined;
  /** Canonical key ("server.listen_address") to where its value came from; keys left at their default are absent. */
  origins: ConfigOrigins;
}
