// The table of every config key: its canonical nested path (snake_case, as in the README's
// node.yaml), the build guide's flat twins, its type and rule, its flag, and what it means.
// Environment variable names are derived from it (envName), so adding a key here adds its
// variable, its place in the reference and its validation at once.

import type { ConfigFlags } from "./types.ts";
import {
  type Check,
  checkAbsolutePath,
  checkHost,
  checkHostOrHostPort,
  checkCallerPattern,
  checkHostPort,
  checkHostPortOrOff,
  checkHttpUrl,
  checkLibvirtUri,
  checkNodeHostname,
  checkUuid,
} from "./validators.ts";

export type Kind =
  | { type: "bool" }
  | { type: "int"; min: number; max: number }
  | { type: "enum"; values: readonly string[] }
  | { type: "string"; check: (s: string) => Check<string> }
  | { type: "labels" }
  /** A YAML sequence of strings; in the environment and flags, comma-separated. Each item is checked. */
  | { type: "list"; check: (s: string) => Check<string> };

export interface KeySpec {
  /** Canonical nested path, e.g. "server.listen_address". */
  key: string;
  /** Other spellings of the same setting (the build guide's flat layout). */
  aliases: readonly string[];
  kind: Kind;
  flag?: keyof ConfigFlags;
  /** The default as a person reads it (derived and dev-mode defaults described in words). */
  defaultText: string;
  doc: string;
}

export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug", "trace"] as const;
export const LOG_FORMATS = ["text", "json"] as const;
export const BACKENDS = ["mock", "libvirt"] as const;

const MIB = 1024 * 1024;
const bool = { type: "bool" } as const;
const str = (check: (s: string) => Check<string>) => ({ type: "string", check }) as const;
const int = (min: number, max: number) => ({ type: "int", min, max }) as const;
const path = str(checkAbsolutePath);

/** libvirt CPU feature names (its cpu_map): arch-capabilities, amd-ssbd, pcid, ... */
/** libvirt network names: no slash, no control characters, at most 64 characters. */
function checkNetworkName(s: string): Check<string> {
  const allowed = "a libvirt network name: 1 to 64 letters, digits, '_', '.' and '-'";
  return /^[A-Za-z0-9_.-]{1,64}$/.test(s) ? { ok: true, value: s } : { ok: false, problem: "is not a network name", allowed };
}

/** A PAM service name: a file name under /etc/pam.d. */
function checkPamService(s: string): Check<string> {
  const allowed = "a file name under /etc/pam.d: 1 to 64 letters, digits, '_', '.' and '-', e.g. login";
  return /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/.test(s) ? { ok: true, value: s } : { ok: false, problem: "is not a PAM service name", allowed };
}

/** A POSIX group name (useradd's rule, which Debian relaxes only with --badname). */
function checkGroupName(s: string): Check<string> {
  const allowed = "a group name: a letter or '_', then up to 31 letters, digits, '_', '.' and '-', e.g. sudo";
  return /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(s) ? { ok: true, value: s } : { ok: false, problem: "is not a group name", allowed };
}

function checkCpuFeature(s: string): Check<string> {
  const allowed = "libvirt CPU feature names: lower-case letters, digits, '_', '.' and '-', e.g. arch-capabilities";
  return /^[a-z0-9_.-]+$/.test(s) ? { ok: true, value: s } : { ok: false, problem: "is not a CPU feature name", allowed };
}

export const KEYS: readonly KeySpec[] = [
  {
    key: "dev",
    aliases: [],
    kind: bool,
    flag: "dev",
    defaultText: "false",
    doc: "Development mode: mock backend, loopback listeners, state under the system temp folder (no root needed).",
  },

  {
    key: "node.id",
    aliases: [],
    kind: str(checkUuid),
    flag: "nodeId",
    defaultText: "(unset: assigned at registration)",
    doc: "This node's UUID. Leave unset to use the id the control plane assigns (persisted under node.state_dir).",
  },
  { key: "node.hostname", aliases: [], kind: str(checkNodeHostname), defaultText: "(unset: the OS hostname)", doc: "Hostname reported to the control plane." },
  {
    key: "node.labels",
    aliases: [],
    kind: { type: "labels" },
    defaultText: "{}",
    doc: "Labels reported at registration (name: value). In the environment: name=value,name2=value2.",
  },
  {
    key: "node.state_dir",
    aliases: [],
    kind: path,
    defaultText: "/var/lib/limiquantix (dev: <tmp>/limiquantix-dev-<uid>)",
    doc: "Where the daemon keeps its own state, such as the persisted node id.",
  },

  {
    key: "server.listen_address",
    aliases: ["listen_address"],
    kind: str(checkHostPort),
    flag: "listen",
    defaultText: "0.0.0.0:9090 (dev: 127.0.0.1:9090)",
    doc: "host:port of the gRPC / Connect / gRPC-Web API listener.",
  },
  {
    key: "server.http1_listen_address",
    aliases: [],
    kind: str(checkHostPort),
    defaultText: "(unset: no second listener)",
    doc: "host:port of an optional second API listener for Connect and gRPC-Web clients over HTTP/1.1 only, on Bun.serve (faster for them; see bench/results.md). Cleartext only: refused when tls.enabled is true. gRPC stays on server.listen_address.",
  },
  { key: "server.metrics_port", aliases: [], kind: int(1, 65535), flag: "metricsPort", defaultText: "9091", doc: "Port of the Prometheus /metrics endpoint." },
  {
    key: "server.metrics_listen",
    aliases: [],
    kind: str(checkHost),
    defaultText: "0.0.0.0 (dev: 127.0.0.1)",
    doc: "Address (host only) the metrics endpoint binds; 127.0.0.1 keeps it on loopback.",
  },
  { key: "server.metrics_enabled", aliases: [], kind: bool, defaultText: "true", doc: "Serve the Prometheus endpoint at all." },
  {
    key: "server.max_message_bytes",
    aliases: [],
    kind: int(1024, 256 * MIB),
    defaultText: String(4 * MIB),
    doc: "Largest request message accepted, in bytes (1024 to 268435456).",
  },
  {
    key: "server.shutdown_timeout_seconds",
    aliases: [],
    kind: int(1, 3600),
    defaultText: "10",
    doc: "On SIGTERM/SIGINT, how long in-flight calls may finish before connections are cut.",
  },

  {
    key: "hypervisor.backend",
    aliases: ["hypervisor.type"],
    kind: { type: "enum", values: BACKENDS },
    flag: "backend",
    defaultText: "libvirt (dev: mock)",
    doc: "Which backend manages VMs. The mock runs only when asked for.",
  },
  {
    key: "hypervisor.libvirt_uri",
    aliases: ["hypervisor.uri"],
    kind: str(checkLibvirtUri),
    flag: "libvirtUri",
    defaultText: "qemu:///system",
    doc: "libvirt connection URI.",
  },
  {
    key: "hypervisor.storage_path",
    aliases: ["storage.vm_images"],
    kind: path,
    flag: "storagePath",
    defaultText: "<node.state_dir>/vms",
    doc: "Where VM disk images are created (the build guide's storage.vm_images).",
  },
  {
    key: "hypervisor.console_listen",
    aliases: [],
    kind: str(checkHost),
    defaultText: "0.0.0.0 (dev: 127.0.0.1)",
    doc: "Address VNC/SPICE consoles listen on.",
  },
  {
    key: "hypervisor.cpu_disabled_features",
    aliases: [],
    kind: { type: "list", check: checkCpuFeature },
    defaultText: "[] (none)",
    doc: 'CPU features the libvirt backend turns off on host-passthrough and host-model guest CPUs, e.g. [arch-capabilities] on nested AMD EPYC hosts where QEMU aborts with "failed to set MSR 0x10a". In the environment: comma-separated.',
  },
  {
    key: "hypervisor.default_network",
    aliases: [],
    kind: str(checkNetworkName),
    defaultText: "default",
    doc: "libvirt network of NICs that name no bridge and no network, or name one of the control plane's network ids (UUIDs, net-...).",
  },
  {
    key: "hypervisor.stop_timeout_seconds",
    aliases: [],
    kind: int(1, 3600),
    defaultText: "60",
    doc: "Default time a graceful StopVM waits for the guest before giving up.",
  },
  {
    key: "hypervisor.libvirt_workers",
    aliases: [],
    kind: int(1, 64),
    defaultText: "4",
    doc: "libvirt calls run at once for short calls (status, lifecycle, listings), each on a Worker thread with its own libvirt connection. Long operations (migrations, volume copies, mounts) and job control (migration progress and cancel) have Workers of their own and never take these.",
  },
  {
    key: "hypervisor.libvirt_long_workers",
    aliases: [],
    kind: int(1, 64),
    defaultText: "4",
    doc: "Long libvirt operations (migrations, volume copies, NFS mounts, device detaches) run at once, each holding a Worker for its whole length; more wait in their queue. Started as needed.",
  },
  {
    key: "hypervisor.libvirt_queue_limit",
    aliases: [],
    kind: int(1, 100_000),
    defaultText: "1024",
    doc: "libvirt calls that may wait for a Worker, per kind (short, long, job control); beyond it a call is refused with RESOURCE_EXHAUSTED.",
  },
  {
    key: "hypervisor.libvirt_call_deadline_ms",
    aliases: [],
    kind: int(10, 3_600_000),
    defaultText: "30000",
    doc: "Deadline of one libvirt call, waiting for a Worker included; storage calls get twice this, long operations 120 times, a migration none (a cancel ends it). A call past it is answered DEADLINE_EXCEEDED naming the libvirt call; a call already running finishes in the background and its result is dropped.",
  },

  {
    key: "storage.cloud_images",
    aliases: [],
    kind: path,
    defaultText: "<hypervisor.storage_path>/cloud",
    doc: "Folder of cloud (base) images used as backing files.",
  },
  { key: "storage.iso_images", aliases: [], kind: path, defaultText: "<hypervisor.storage_path>/iso", doc: "Folder of ISO images." },

  {
    key: "control_plane.address",
    aliases: ["control_plane_url"],
    kind: str(checkHttpUrl),
    flag: "controlPlane",
    defaultText: "(unset)",
    doc: "URL of the control plane's NodeService; https:// uses TLS.",
  },
  {
    key: "control_plane.registration_enabled",
    aliases: ["auto_register"],
    kind: bool,
    flag: "register",
    defaultText: "false",
    doc: "Register with the control plane at start and send heartbeats (needs control_plane.address).",
  },
  {
    key: "control_plane.heartbeat_interval_secs",
    aliases: [],
    kind: int(1, 3600),
    defaultText: "30",
    doc: "Seconds between heartbeats until the control plane asks for another interval.",
  },
  {
    key: "control_plane.ca_file",
    aliases: [],
    kind: path,
    defaultText: "(unset: system CAs)",
    doc: "PEM CA bundle that signs the control plane's certificate.",
  },
  {
    key: "control_plane.management_ip",
    aliases: [],
    kind: str(checkHostOrHostPort),
    defaultText: "(unset: detected)",
    doc: "Address the control plane dials back (host or host:port); wins over detection.",
  },

  { key: "tls.enabled", aliases: [], kind: bool, defaultText: "false", doc: "Serve the API over TLS." },
  { key: "tls.cert_path", aliases: [], kind: path, defaultText: "/etc/limiquantix/certs/node.crt", doc: "PEM certificate of the API listener." },
  { key: "tls.key_path", aliases: [], kind: path, defaultText: "/etc/limiquantix/certs/node.key", doc: "PEM private key of the API listener." },
  {
    key: "tls.client_ca_path",
    aliases: [],
    kind: path,
    defaultText: "(unset: no client certificates)",
    doc: "PEM CA bundle; when set, only clients with a certificate it signed get in (mutual TLS).",
  },

  { key: "telemetry.proc_root", aliases: [], kind: path, defaultText: "/proc", doc: "Where /proc is mounted." },
  { key: "telemetry.sys_root", aliases: [], kind: path, defaultText: "/sys", doc: "Where /sys is mounted." },
  { key: "telemetry.etc_root", aliases: [], kind: path, defaultText: "/etc", doc: "Where os-release and friends are read." },

  {
    key: "agent.socket_dir",
    aliases: [],
    kind: path,
    defaultText: "/var/run/limiquantix/vms (dev: <tmp>/limiquantix-dev-<uid>/agent)",
    doc: "Folder of the guest agents' virtio-serial sockets.",
  },
  {
    key: "agent.allowed_callers",
    aliases: [],
    kind: { type: "list", check: checkCallerPattern },
    defaultText: "(loopback and the control plane's address, resolved from control_plane.address)",
    doc: 'Who may run commands and touch files inside guests (agent RPCs and the REST calls on agent.rest_listen_address): IP addresses, CIDR ranges or hostnames; "*" allows every address. Setting it replaces the default. Callers with a bearer token or a verified client certificate get in from anywhere.',
  },
  {
    key: "agent.bearer_token_file",
    aliases: [],
    kind: path,
    defaultText: "(unset: no token)",
    doc: "File holding a token; a caller sending `Authorization: Bearer <token>` may use the agent RPCs and REST calls from any address.",
  },
  {
    key: "agent.rest_listen_address",
    aliases: [],
    kind: str(checkHostPortOrOff),
    defaultText: "0.0.0.0:8443 (dev: 127.0.0.1:8443); off disables",
    doc: "The one HTTPS listener: the REST calls the control plane makes (/api/v1/vms/{id}/logs, agent/*, execute; /api/v1/registration/*) and the host UI (pages, /auth/*, /ui-api/*, consoles). Kept under agent. for existing configs.",
  },
  {
    key: "agent.rest_cert_path",
    aliases: [],
    kind: path,
    defaultText: "(unset: a self-signed certificate generated once under node.state_dir/tls)",
    doc: "PEM certificate of the HTTPS listener (REST calls and host UI).",
  },
  {
    key: "agent.rest_key_path",
    aliases: [],
    kind: path,
    defaultText: "(unset: generated with the certificate)",
    doc: "PEM private key of the HTTPS listener.",
  },
  {
    key: "agent.rest_client_ca_path",
    aliases: [],
    kind: path,
    defaultText: "(unset: no client certificates)",
    doc: "PEM CA bundle; when set, the REST listener accepts only clients with a certificate it signed (mutual TLS), from any address.",
  },
  {
    key: "agent.ping_interval_secs",
    aliases: [],
    kind: int(1, 3600),
    defaultText: "30",
    doc: "How often a connected guest agent is pinged; one that does not answer within 5 s is reconnected.",
  },
  {
    key: "agent.request_timeout_secs",
    aliases: [],
    kind: int(1, 3600),
    defaultText: "30",
    doc: "How long an agent request (ping, file chunk, shutdown) waits for the guest's answer.",
  },

  {
    key: "host_ui.pam_service",
    aliases: [],
    kind: str(checkPamService),
    defaultText: "login",
    doc: "PAM service (a file in /etc/pam.d) that checks the host UI's logins; login exists on every Debian host and adds pam_nologin and a 3 s delay after a wrong password.",
  },
  {
    key: "host_ui.admin_group",
    aliases: [],
    kind: str(checkGroupName),
    defaultText: "sudo",
    doc: "Host group whose members may log in to the host UI (besides root): they can already become root with sudo. wheel on RHEL-like hosts.",
  },
  {
    key: "host_ui.session_idle_minutes",
    aliases: [],
    kind: int(1, 10080),
    defaultText: "480 (8 h)",
    doc: "A host UI session unused this long ends. Sessions live in the daemon's memory: a restart ends them all.",
  },
  {
    key: "host_ui.session_max_hours",
    aliases: [],
    kind: int(1, 720),
    defaultText: "24",
    doc: "A host UI session ends this long after its login, used or not.",
  },

  { key: "log.level", aliases: [], kind: { type: "enum", values: LOG_LEVELS }, flag: "logLevel", defaultText: "info", doc: "Least severe message logged." },
  {
    key: "log.format",
    aliases: [],
    kind: { type: "enum", values: LOG_FORMATS },
    flag: "logFormat",
    defaultText: "text",
    doc: "text for people, json for journald and log shippers.",
  },
];

/** Sections of the nested layout; a mapping under one of these holds keys of the table. */
export const SECTIONS = ["node", "server", "hypervisor", "storage", "control_plane", "tls", "telemetry", "agent", "host_ui", "log"] as const;

/** Every spelling (canonical or alias) to its spec. */
export const SPEC_BY_PATH: ReadonlyMap<string, KeySpec> = new Map(KEYS.flatMap((spec) => [spec.key, ...spec.aliases].map((p) => [p, spec] as const)));

/** LIMIQUANTIX_<SECTION>_<KEY>, upper-cased: server.listen_address -> LIMIQUANTIX_SERVER_LISTEN_ADDRESS. */
export function envName(path: string): string {
  return `LIMIQUANTIX_${path.replace(/\./g, "_").toUpperCase()}`;
}

/** Selects the config file; not a setting itself. */
export const CONFIG_ENV = "LIMIQUANTIX_CONFIG";

/** controlPlane -> --control-plane */
export function flagName(flag: keyof ConfigFlags): string {
  return `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
