// Fills the NodeConfig from the merged settings and the defaults. Defaults that depend on
// other keys are derived here in one place: dev mode, state_dir -> storage_path ->
// storage.* folders.

import { tmpdir, userInfo } from "node:os";
import { posix } from "node:path";
import type { ConfigValue } from "./parse-value.ts";
import type { HypervisorBackend, LogFormat, LogLevel, NodeConfig } from "./types.ts";

export const DEFAULT_CONFIG_PATH = "/etc/limiquantix/node.yaml";
export const MAX_MESSAGE_BYTES_DEFAULT = 4 * 1024 * 1024;

/** Per-user scratch root for --dev, so it needs no root (on macOS tmpdir() is per-user already). */
export function devRootDir(): string {
  const who = typeof process.getuid === "function" ? String(process.getuid()) : userInfo().username;
  return posix.join(tmpdir(), `limiquantix-dev-${who}`);
}

/** `values` maps canonical keys to validated values; a key absent from it takes its default. */
export function buildConfig(values: ReadonlyMap<string, ConfigValue>, devRoot: string): NodeConfig {
  const str = (key: string) => values.get(key) as string | undefined;
  const num = (key: string) => values.get(key) as number | undefined;
  const bool = (key: string) => values.get(key) as boolean | undefined;

  const dev = bool("dev") ?? false;
  const loopbackInDev = dev ? "127.0.0.1" : "0.0.0.0";
  const stateDir = str("node.state_dir") ?? (dev ? devRoot : "/var/lib/limiquantix");
  const storagePath = str("hypervisor.storage_path") ?? posix.join(stateDir, "vms");

  return {
    dev,
    node: {
      ...optional("id", str("node.id")),
      ...optional("hostname", str("node.hostname")),
      labels: (values.get("node.labels") as Record<string, string> | undefined) ?? {},
      stateDir,
    },
    server: {
      listenAddress: str("server.listen_address") ?? `${loopbackInDev}:9090`,
      ...optional("http1ListenAddress", str("server.http1_listen_address")),
      metricsPort: num("server.metrics_port") ?? 9091,
      metricsListen: str("server.metrics_listen") ?? loopbackInDev,
      metricsEnabled: bool("server.metrics_enabled") ?? true,
      maxMessageBytes: num("server.max_message_bytes") ?? MAX_MESSAGE_BYTES_DEFAULT,
      shutdownTimeoutSeconds: num("server.shutdown_timeout_seconds") ?? 10,
    },
    hypervisor: {
      backend: (str("hypervisor.backend") as HypervisorBackend | undefined) ?? (dev ? "mock" : "libvirt"),
      libvirtUri: str("hypervisor.libvirt_uri") ?? "qemu:///system",
      storagePath,
      consoleListen: str("hypervisor.console_listen") ?? loopbackInDev,
      defaultNetwork: str("hypervisor.default_network") ?? "default",
      stopTimeoutSeconds: num("hypervisor.stop_timeout_seconds") ?? 60,
      libvirtWorkers: num("hypervisor.libvirt_workers") ?? 4,
      libvirtLongWorkers: num("hypervisor.libvirt_long_workers") ?? 4,
      libvirtQueueLimit: num("hypervisor.libvirt_queue_limit") ?? 1024,
      libvirtCallDeadlineMs: num("hypervisor.libvirt_call_deadline_ms") ?? 30_000,
      cpuDisabledFeatures: (values.get("hypervisor.cpu_disabled_features") as string[] | undefined) ?? [],
    },
    storage: {
      vmImages: storagePath,
      cloudImages: str("storage.cloud_images") ?? posix.join(storagePath, "cloud"),
      isoImages: str("storage.iso_images") ?? posix.join(storagePath, "iso"),
    },
    controlPlane: {
      ...optional("address", str("control_plane.address")),
      registrationEnabled: bool("control_plane.registration_enabled") ?? false,
      heartbeatIntervalSecs: num("control_plane.heartbeat_interval_secs") ?? 30,
      ...optional("caFile", str("control_plane.ca_file")),
      ...optional("managementIp", str("control_plane.management_ip")),
    },
    tls: {
      enabled: bool("tls.enabled") ?? false,
      certPath: str("tls.cert_path") ?? "/etc/limiquantix/certs/node.crt",
      keyPath: str("tls.key_path") ?? "/etc/limiquantix/certs/node.key",
      ...optional("clientCaPath", str("tls.client_ca_path")),
    },
    telemetry: {
      procRoot: str("telemetry.proc_root") ?? "/proc",
      sysRoot: str("telemetry.sys_root") ?? "/sys",
      etcRoot: str("telemetry.etc_root") ?? "/etc",
    },
    agent: {
      socketDir: str("agent.socket_dir") ?? (dev ? posix.join(devRoot, "agent") : "/var/run/limiquantix/vms"),
      ...(values.has("agent.allowed_callers") ? { allowedCallers: values.get("agent.allowed_callers") as string[] } : {}),
      ...optional("bearerTokenFile", str("agent.bearer_token_file")),
      ...restListen(str("agent.rest_listen_address") ?? `${loopbackInDev}:8443`),
      ...optional("restCertPath", str("agent.rest_cert_path")),
      ...optional("restKeyPath", str("agent.rest_key_path")),
      ...optional("restClientCaPath", str("agent.rest_client_ca_path")),
      pingIntervalSecs: num("agent.ping_interval_secs") ?? 30,
      requestTimeoutSecs: num("agent.request_timeout_secs") ?? 30,
    },
    hostUi: {
      pamService: str("host_ui.pam_service") ?? "login",
      adminGroup: str("host_ui.admin_group") ?? "sudo",
      sessionIdleMinutes: num("host_ui.session_idle_minutes") ?? 480,
      sessionMaxHours: num("host_ui.session_max_hours") ?? 24,
    },
    log: {
      level: (str("log.level") as LogLevel | undefined) ?? "info",
      format: (str("log.format") as LogFormat | undefined) ?? "text",
    },
  };
}

function restListen(address: string): { restListenAddress?: string } {
  return address === "off" ? {} : { restListenAddress: address };
}

/** Leaves the property out entirely when unset, so `"id" in config.node` means it was given. */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
