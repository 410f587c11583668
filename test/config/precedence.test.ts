// defaults < file < environment < flags, shown key by key: each step adds one layer with a
// different value, and that layer's value must win (and be reported as the origin).

import { describe, expect, test } from "bun:test";
import { type ConfigFlags, envName, KEYS, type NodeConfig } from "../../src/config/index.ts";
import { load } from "./helpers.ts";

interface Row {
  key: string;
  get: (c: NodeConfig) => unknown;
  /** Value with nothing set. */
  def: unknown;
  file: [literal: string, expected: unknown];
  env: [value: string, expected: unknown];
  flag?: [value: ConfigFlags[keyof ConfigFlags], expected: unknown];
  /** Flags every stage needs for the key to be valid at all. */
  context?: ConfigFlags;
}

const path = (key: string, get: (c: NodeConfig) => unknown, def: string, flag?: boolean): Row => ({
  key,
  get,
  def,
  file: ["/from/file", "/from/file"],
  env: ["/from/env", "/from/env"],
  ...(flag ? { flag: ["/from/flag", "/from/flag"] as [string, string] } : {}),
});

const ROWS: Row[] = [
  { key: "dev", get: (c) => c.dev, def: false, file: ["true", true], env: ["false", false], flag: [true, true] },
  {
    key: "node.id",
    get: (c) => c.node.id,
    def: undefined,
    file: ['"11111111-1111-4111-8111-111111111111"', "11111111-1111-4111-8111-111111111111"],
    env: ["22222222-2222-4222-8222-222222222222", "22222222-2222-4222-8222-222222222222"],
    flag: ["33333333-3333-4333-8333-333333333333", "33333333-3333-4333-8333-333333333333"],
  },
  { key: "node.hostname", get: (c) => c.node.hostname, def: undefined, file: ["file-host", "file-host"], env: ["env-host", "env-host"] },
  { key: "node.labels", get: (c) => c.node.labels, def: {}, file: ["{a: x, b: y}", { a: "x", b: "y" }], env: ["c=z", { c: "z" }] },
  path("node.state_dir", (c) => c.node.stateDir, "/var/lib/limiquantix"),
  {
    key: "server.listen_address",
    get: (c) => c.server.listenAddress,
    def: "0.0.0.0:9090",
    file: ['"10.0.0.1:1001"', "10.0.0.1:1001"],
    env: ["10.0.0.2:1002", "10.0.0.2:1002"],
    flag: ["10.0.0.3:1003", "10.0.0.3:1003"],
  },
  {
    key: "server.http1_listen_address",
    get: (c) => c.server.http1ListenAddress,
    def: undefined,
    file: ['"10.0.0.1:2001"', "10.0.0.1:2001"],
    env: ["10.0.0.2:2002", "10.0.0.2:2002"],
  },
  { key: "server.metrics_port", get: (c) => c.server.metricsPort, def: 9091, file: ["9100", 9100], env: ["9200", 9200], flag: ["9300", 9300] },
  { key: "server.metrics_listen", get: (c) => c.server.metricsListen, def: "0.0.0.0", file: ["10.0.0.1", "10.0.0.1"], env: ["10.0.0.2", "10.0.0.2"] },
  { key: "server.metrics_enabled", get: (c) => c.server.metricsEnabled, def: true, file: ["false", false], env: ["true", true] },
  { key: "server.max_message_bytes", get: (c) => c.server.maxMessageBytes, def: 4194304, file: ["2048", 2048], env: ["4096", 4096] },
  { key: "server.shutdown_timeout_seconds", get: (c) => c.server.shutdownTimeoutSeconds, def: 10, file: ["20", 20], env: ["30", 30] },
  { key: "hypervisor.backend", get: (c) => c.hypervisor.backend, def: "libvirt", file: ["mock", "mock"], env: ["libvirt", "libvirt"], flag: ["mock", "mock"] },
  {
    key: "hypervisor.libvirt_uri",
    get: (c) => c.hypervisor.libvirtUri,
    def: "qemu:///system",
    file: ['"qemu:///session"', "qemu:///session"],
    env: ["test:///default", "test:///default"],
    flag: ["qemu+ssh://hv2/system", "qemu+ssh://hv2/system"],
  },
  path("hypervisor.storage_path", (c) => c.hypervisor.storagePath, "/var/lib/limiquantix/vms", true),
  { key: "hypervisor.console_listen", get: (c) => c.hypervisor.consoleListen, def: "0.0.0.0", file: ["10.0.0.1", "10.0.0.1"], env: ["10.0.0.2", "10.0.0.2"] },
  { key: "hypervisor.default_network", get: (c) => c.hypervisor.defaultNetwork, def: "default", file: ["br-a", "br-a"], env: ["br-b", "br-b"] },
  { key: "hypervisor.stop_timeout_seconds", get: (c) => c.hypervisor.stopTimeoutSeconds, def: 60, file: ["5", 5], env: ["6", 6] },
  { key: "hypervisor.libvirt_workers", get: (c) => c.hypervisor.libvirtWorkers, def: 4, file: ["2", 2], env: ["8", 8] },
  { key: "hypervisor.libvirt_long_workers", get: (c) => c.hypervisor.libvirtLongWorkers, def: 4, file: ["1", 1], env: ["6", 6] },
  { key: "hypervisor.libvirt_queue_limit", get: (c) => c.hypervisor.libvirtQueueLimit, def: 1024, file: ["10", 10], env: ["20", 20] },
  { key: "hypervisor.libvirt_call_deadline_ms", get: (c) => c.hypervisor.libvirtCallDeadlineMs, def: 30000, file: ["500", 500], env: ["900", 900] },
  {
    key: "hypervisor.cpu_disabled_features",
    get: (c) => c.hypervisor.cpuDisabledFeatures,
    def: [],
    file: ["[arch-capabilities]", ["arch-capabilities"]],
    env: ["amd-ssbd,pcid", ["amd-ssbd", "pcid"]],
  },
  path("storage.cloud_images", (c) => c.storage.cloudImages, "/var/lib/limiquantix/vms/cloud"),
  path("storage.iso_images", (c) => c.storage.isoImages, "/var/lib/limiquantix/vms/iso"),
  {
    key: "control_plane.address",
    get: (c) => c.controlPlane.address,
    def: undefined,
    file: ['"http://file:8080"', "http://file:8080"],
    env: ["http://env:8080", "http://env:8080"],
    flag: ["https://flag:8443", "https://flag:8443"],
  },
  {
    key: "control_plane.registration_enabled",
    get: (c) => c.controlPlane.registrationEnabled,
    def: false,
    file: ["true", true],
    env: ["false", false],
    flag: [true, true],
    context: { controlPlane: "http://cp:8080" },
  },
  { key: "control_plane.heartbeat_interval_secs", get: (c) => c.controlPlane.heartbeatIntervalSecs, def: 30, file: ["10", 10], env: ["20", 20] },
  path("control_plane.ca_file", (c) => c.controlPlane.caFile, undefined as unknown as string),
  {
    key: "control_plane.management_ip",
    get: (c) => c.controlPlane.managementIp,
    def: undefined,
    file: ["10.0.0.1", "10.0.0.1"],
    env: ["10.0.0.2:9090", "10.0.0.2:9090"],
  },
  { key: "tls.enabled", get: (c) => c.tls.enabled, def: false, file: ["true", true], env: ["false", false] },
  path("tls.cert_path", (c) => c.tls.certPath, "/etc/limiquantix/certs/node.crt"),
  path("tls.key_path", (c) => c.tls.keyPath, "/etc/limiquantix/certs/node.key"),
  path("tls.client_ca_path", (c) => c.tls.clientCaPath, undefined as unknown as string),
  path("telemetry.proc_root", (c) => c.telemetry.procRoot, "/proc"),
  path("telemetry.sys_root", (c) => c.telemetry.sysRoot, "/sys"),
  path("telemetry.etc_root", (c) => c.telemetry.etcRoot, "/etc"),
  path("agent.socket_dir", (c) => c.agent.socketDir, "/var/run/limiquantix/vms"),
  {
    key: "agent.allowed_callers",
    get: (c) => c.agent.allowedCallers,
    def: undefined,
    file: ["[10.0.0.1]", ["10.0.0.1"]],
    env: ["10.0.0.2,::1", ["10.0.0.2", "::1"]],
  },
  path("agent.bearer_token_file", (c) => c.agent.bearerTokenFile, undefined as unknown as string),
  {
    key: "agent.rest_listen_address",
    get: (c) => c.agent.restListenAddress,
    def: "0.0.0.0:8443",
    file: ["127.0.0.1:8443", "127.0.0.1:8443"],
    env: ["127.0.0.2:8443", "127.0.0.2:8443"],
  },
  path("agent.rest_cert_path", (c) => c.agent.restCertPath, undefined as unknown as string),
  path("agent.rest_key_path", (c) => c.agent.restKeyPath, undefined as unknown as string),
  path("agent.rest_client_ca_path", (c) => c.agent.restClientCaPath, undefined as unknown as string),
  { key: "agent.ping_interval_secs", get: (c) => c.agent.pingIntervalSecs, def: 30, file: ["10", 10], env: ["20", 20] },
  { key: "agent.request_timeout_secs", get: (c) => c.agent.requestTimeoutSecs, def: 30, file: ["10", 10], env: ["20", 20] },
  { key: "host_ui.pam_service", get: (c) => c.hostUi.pamService, def: "login", file: ["common-auth", "common-auth"], env: ["other", "other"] },
  { key: "host_ui.admin_group", get: (c) => c.hostUi.adminGroup, def: "sudo", file: ["wheel", "wheel"], env: ["admins", "admins"] },
  { key: "host_ui.session_idle_minutes", get: (c) => c.hostUi.sessionIdleMinutes, def: 480, file: ["10", 10], env: ["20", 20] },
  { key: "host_ui.session_max_hours", get: (c) => c.hostUi.sessionMaxHours, def: 24, file: ["10", 10], env: ["20", 20] },
  { key: "log.level", get: (c) => c.log.level, def: "info", file: ["warn", "warn"], env: ["debug", "debug"], flag: ["trace", "trace"] },
  { key: "log.format", get: (c) => c.log.format, def: "text", file: ["json", "json"], env: ["text", "text"], flag: ["json", "json"] },
];

function yamlFor(key: string, literal: string): string {
  const dot = key.indexOf(".");
  return dot < 0 ? `${key}: ${literal}\n` : `${key.slice(0, dot)}:\n  ${key.slice(dot + 1)}: ${literal}\n`;
}

test("every key has a row, and every key with a flag has a flag step", () => {
  expect(ROWS.map((r) => r.key).sort()).toEqual(KEYS.map((k) => k.key).sort());
  for (const spec of KEYS) expect(ROWS.find((r) => r.key === spec.key)?.flag !== undefined).toBe(spec.flag !== undefined);
});

describe.each(ROWS)("$key", (row) => {
  const spec = KEYS.find((k) => k.key === row.key);
  const env = { [envName(row.key)]: row.env[0] };
  const file = yamlFor(row.key, row.file[0]);
  const context = row.context ?? {};

  test("default", () => {
    const { config, origins } = load({ flags: context });
    expect(row.get(config)).toEqual(row.def);
    expect(origins[row.key]).toBeUndefined();
  });

  test("file beats default", () => {
    const { config, origins } = load({ yaml: file, flags: context });
    expect(row.get(config)).toEqual(row.file[1]);
    expect(row.file[1]).not.toEqual(row.def);
    expect(origins[row.key]).toStartWith("file /etc/limiquantix/node.yaml:");
  });

  test("environment beats file", () => {
    const { config, origins } = load({ yaml: file, env, flags: context });
    expect(row.get(config)).toEqual(row.env[1]);
    expect(row.env[1]).not.toEqual(row.file[1]);
    expect(origins[row.key]).toBe(`env ${envName(row.key)}`);
  });

  const flag = spec?.flag;
  if (row.flag === undefined || flag === undefined) return;
  const [value, expected] = row.flag;
  test(`flag ${flag} beats environment`, () => {
    const { config, origins } = load({ yaml: file, env, flags: { ...context, [flag]: value } });
    expect(row.get(config)).toEqual(expected);
    expect(expected).not.toEqual(row.env[1]);
    expect(origins[row.key]).toStartWith("flag --");
  });
});

test("an explicit false flag overrides true below it", () => {
  const { config } = load({ yaml: "tls:\n  enabled: true\n", env: { LIMIQUANTIX_DEV: "1" }, flags: { dev: false } });
  expect(config.dev).toBe(false);
  expect(config.hypervisor.backend).toBe("libvirt");
});

test("an empty environment variable counts as unset", () => {
  const { config } = load({ yaml: "log:\n  level: warn\n", env: { LIMIQUANTIX_LOG_LEVEL: "", LIMIQUANTIX_LOG_FORMAT: "  " } });
  expect(config.log).toEqual({ level: "warn", format: "text" });
});

test("derived defaults follow the keys they derive from, at any layer", () => {
  const { config } = load({ yaml: "node:\n  state_dir: /srv/lq\n" });
  expect(config.hypervisor.storagePath).toBe("/srv/lq/vms");
  expect(config.storage).toEqual({ vmImages: "/srv/lq/vms", cloudImages: "/srv/lq/vms/cloud", isoImages: "/srv/lq/vms/iso" });
  const withFlag = load({ yaml: "node:\n  state_dir: /srv/lq\n", flags: { storagePath: "/data/vms" } }).config;
  expect(withFlag.storage).toEqual({ vmImages: "/data/vms", cloudImages: "/data/vms/cloud", isoImages: "/data/vms/iso" });
});
