// The effective config as nested YAML, for `config check`. The output is itself a valid
// node.yaml (it loads back to the same config), with secrets redacted and, when origins are
// given, a comment saying where each non-default value came from.

import { KEYS, SECTIONS } from "./keys.ts";
import type { ConfigOrigins, NodeConfig } from "./types.ts";
import { yaml } from "./yaml-lib.ts";

type Getter = (c: NodeConfig) => string | number | boolean | Record<string, string> | string[] | undefined;

/** Canonical key -> where its effective value lives in NodeConfig. */
export const CONFIG_GETTERS: Readonly<Record<string, Getter>> = {
  dev: (c) => c.dev,
  "node.id": (c) => c.node.id,
  "node.hostname": (c) => c.node.hostname,
  "node.labels": (c) => c.node.labels,
  "node.state_dir": (c) => c.node.stateDir,
  "server.listen_address": (c) => c.server.listenAddress,
  "server.http1_listen_address": (c) => c.server.http1ListenAddress,
  "server.metrics_port": (c) => c.server.metricsPort,
  "server.metrics_listen": (c) => c.server.metricsListen,
  "server.metrics_enabled": (c) => c.server.metricsEnabled,
  "server.max_message_bytes": (c) => c.server.maxMessageBytes,
  "server.shutdown_timeout_seconds": (c) => c.server.shutdownTimeoutSeconds,
  "hypervisor.backend": (c) => c.hypervisor.backend,
  "hypervisor.libvirt_uri": (c) => c.hypervisor.libvirtUri,
  "hypervisor.storage_path": (c) => c.hypervisor.storagePath,
  "hypervisor.console_listen": (c) => c.hypervisor.consoleListen,
  "hypervisor.default_network": (c) => c.hypervisor.defaultNetwork,
  "hypervisor.stop_timeout_seconds": (c) => c.hypervisor.stopTimeoutSeconds,
  "hypervisor.libvirt_workers": (c) => c.hypervisor.libvirtWorkers,
  "hypervisor.libvirt_long_workers": (c) => c.hypervisor.libvirtLongWorkers,
  "hypervisor.libvirt_queue_limit": (c) => c.hypervisor.libvirtQueueLimit,
  "hypervisor.libvirt_call_deadline_ms": (c) => c.hypervisor.libvirtCallDeadlineMs,
  "hypervisor.cpu_disabled_features": (c) => c.hypervisor.cpuDisabledFeatures,
  "storage.cloud_images": (c) => c.storage.cloudImages,
  "storage.iso_images": (c) => c.storage.isoImages,
  "control_plane.address": (c) => c.controlPlane.address,
  "control_plane.registration_enabled": (c) => c.controlPlane.registrationEnabled,
  "control_plane.heartbeat_interval_secs": (c) => c.controlPlane.heartbeatIntervalSecs,
  "control_plane.ca_file": (c) => c.controlPlane.caFile,
  "control_plane.management_ip": (c) => c.controlPlane.managementIp,
  "tls.enabled": (c) => c.tls.enabled,
  "tls.cert_path": (c) => c.tls.certPath,
  "tls.key_path": (c) => c.tls.keyPath,
  "tls.client_ca_path": (c) => c.tls.clientCaPath,
  "telemetry.proc_root": (c) => c.telemetry.procRoot,
  "telemetry.sys_root": (c) => c.telemetry.sysRoot,
  "telemetry.etc_root": (c) => c.telemetry.etcRoot,
  "agent.socket_dir": (c) => c.agent.socketDir,
  "agent.allowed_callers": (c) => c.agent.allowedCallers,
  "agent.bearer_token_file": (c) => c.agent.bearerTokenFile,
  "agent.rest_listen_address": (c) => c.agent.restListenAddress ?? "off",
  "agent.rest_cert_path": (c) => c.agent.restCertPath,
  "agent.rest_key_path": (c) => c.agent.restKeyPath,
  "agent.rest_client_ca_path": (c) => c.agent.restClientCaPath,
  "agent.ping_interval_secs": (c) => c.agent.pingIntervalSecs,
  "agent.request_timeout_secs": (c) => c.agent.requestTimeoutSecs,
  "host_ui.pam_service": (c) => c.hostUi.pamService,
  "host_ui.admin_group": (c) => c.hostUi.adminGroup,
  "host_ui.session_idle_minutes": (c) => c.hostUi.sessionIdleMinutes,
  "host_ui.session_max_hours": (c) => c.hostUi.sessionMaxHours,
  "log.level": (c) => c.log.level,
  "log.format": (c) => c.log.format,
};

export const REDACTED = "REDACTED";
const SECRET_KEY = /password|passwd|secret|token|credential/i;
const URL_USERINFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i;

/** Hides secrets: whole values of secret-named keys, and passwords inside URLs (http://user:pw@host). */
export function redactValue<T>(key: string, value: T): T | string {
  if (value === undefined) return value;
  if (SECRET_KEY.test(key.slice(key.lastIndexOf(".") + 1))) return REDACTED;
  if (typeof value === "string") return value.replace(URL_USERINFO_PASSWORD, `$1:${REDACTED}@`);
  return value;
}

export function formatEffectiveConfig(config: NodeConfig, origins: ConfigOrigins = {}): string {
  const { Document, isMap, isScalar } = yaml();
  const tree: Record<string, unknown> = {};
  for (const { key } of KEYS) {
    const getter = CONFIG_GETTERS[key];
    if (!getter) throw new Error(`format-config: no getter for config key ${key}`);
    const value = redactValue(key, getter(config)) ?? null; // null: unset, and loads back as unset
    const dot = key.indexOf(".");
    if (dot < 0) tree[key] = value;
    else {
      const section = key.slice(0, dot);
      tree[section] ??= {};
      const sectionTree = tree[section] as Record<string, unknown>;
      sectionTree[key.slice(dot + 1)] = value;
    }
  }
  // Keep the README's section order whatever order the table has.
  const ordered: Record<string, unknown> = { dev: tree.dev };
  for (const section of SECTIONS) if (tree[section] !== undefined) ordered[section] = tree[section];

  const doc = new Document(ordered);
  for (const [key, origin] of Object.entries(origins)) {
    const path = key.split(".");
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) continue;
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
    // A scalar takes the comment after its value; a mapping (labels) after its key.
    if (pair && isScalar(pair.value)) pair.value.comment = ` ${origin}`;
    else if (pair && isScalar(pair.key)) pair.key.comment = ` ${origin}`;
  }
  return doc.toString({ lineWidth: 0 });
}
