// Table tests: every key with values it accepts (and what they become) and values it
// refuses (with the error naming the key, the value and what is allowed).

import { describe, expect, test } from "bun:test";
import { KEYS, type NodeConfig } from "../../src/config/index.ts";
import { load, loadError } from "./helpers.ts";

interface KeyCase {
  key: string;
  get: (c: NodeConfig) => unknown;
  /** [YAML literal, effective value] */
  good: [string, unknown][];
  /** [YAML literal, problem in the message, fragment of `allowed`, key named when not `key`] */
  bad: [string, string, string, string?][];
  /** Other lines of the same section, for keys that only make sense with them. */
  siblings?: string;
}

const PATH_BAD: [string, string, string][] = [["relative/dir", "is not an absolute path", "absolute path"]];
const pathCase = (key: string, get: (c: NodeConfig) => unknown): KeyCase => ({
  key,
  get,
  good: [
    ["/data/x", "/data/x"],
    ['"/data//x/"', "/data/x"],
  ],
  bad: [...PATH_BAD, ["42", "is not a string", "absolute path"]],
});
const boolCase = (key: string, get: (c: NodeConfig) => unknown): KeyCase => ({
  key,
  get,
  good: [
    ["true", true],
    ["false", false],
  ],
  bad: [
    ["yes", "is not a boolean", "true or false"],
    ['"true"', "is not a boolean", "unquoted"],
    ["1", "is not a boolean", "true or false"],
  ],
});
const intCase = (key: string, get: (c: NodeConfig) => unknown, min: number, max: number): KeyCase => ({
  key,
  get,
  good: [
    [String(min), min],
    [String(max), max],
  ],
  bad: [
    [String(min - 1), `is not an integer from ${min} to ${max}`, `${min} to ${max}`],
    [String(max + 1), `is not an integer from ${min} to ${max}`, `${min} to ${max}`],
    [`"${min}"`, `is not an integer from ${min} to ${max}`, "unquoted"],
    [`${min}.5`, "is not an integer", `${min} to ${max}`],
  ],
});

const CASES: KeyCase[] = [
  boolCase("dev", (c) => c.dev),
  {
    key: "node.id",
    get: (c) => c.node.id,
    good: [
      ['"0D6F3A52-9B1C-4E0A-8D7E-2F3C4B5A6978"', "0d6f3a52-9b1c-4e0a-8d7e-2f3c4b5a6978"],
      ["null", undefined],
    ],
    bad: [
      ['"node-1"', "is not a valid UUID", "UUID"],
      ["42", "is not a string", "UUID"],
    ],
  },
  {
    key: "node.hostname",
    get: (c) => c.node.hostname,
    good: [
      ["hv-01.example.com", "hv-01.example.com"],
      ["", undefined],
    ],
    bad: [
      ['"bad_host!"', "is not a valid hostname", "RFC 1123"],
      ['"999.1.1.1"', "is not a valid hostname", "RFC 1123"],
    ],
  },
  {
    key: "node.labels",
    get: (c) => c.node.labels,
    good: [
      ['{rack: A1, zone: "us-east-1a", tier: 1}', { rack: "A1", zone: "us-east-1a", tier: "1" }],
      ["{}", {}],
    ],
    bad: [
      ["[a, b]", "is not a mapping", "mapping of label names"],
      ['{"bad key": x}', "is not a valid label name", "letters, digits", "node.labels.bad key"],
      ["{a: {b: c}}", "is not a label value", "string, number or boolean", "node.labels.a"],
    ],
  },
  pathCase("node.state_dir", (c) => c.node.stateDir),
  {
    key: "server.listen_address",
    get: (c) => c.server.listenAddress,
    good: [
      ['"127.0.0.1:9090"', "127.0.0.1:9090"],
      ['"[::1]:9090"', "[::1]:9090"],
      ["hv-01.local:1", "hv-01.local:1"],
      ['"0.0.0.0:65535"', "0.0.0.0:65535"],
    ],
    bad: [
      ['"0.0.0.0:99999"', "is not a valid host:port (port must be 1-65535)", "port 1-65535"],
      ['"0.0.0.0:0"', "(port must be 1-65535)", "host:port"],
      ['"0.0.0.0"', "is not a valid host:port (missing :port, e.g. 0.0.0.0:9090)", "host:port"],
      ['"::1:9090"', "(IPv6 addresses need brackets, e.g. [::1]:9090)", "[IPv6]"],
      ['"[zz]:9090"', 'is not a valid host:port ("zz" is not an IPv6 address)', "[IPv6]"],
      ['":9090"', "(missing host; use 0.0.0.0 for every interface)", "host:port"],
      ['"300.1.1.1:9090"', '("300.1.1.1" is not an IPv4 address or hostname)', "host:port"],
      ["9090", "is not a string", "host:port"],
    ],
  },
  {
    key: "server.http1_listen_address",
    get: (c) => c.server.http1ListenAddress,
    good: [
      ['"127.0.0.1:9092"', "127.0.0.1:9092"],
      ['"[::1]:9092"', "[::1]:9092"],
      ["null", undefined],
    ],
    bad: [
      ['"127.0.0.1:0"', "(port must be 1-65535)", "host:port"],
      ["9092", "is not a string", "host:port"],
    ],
  },
  intCase("server.metrics_port", (c) => c.server.metricsPort, 1, 65535),
  {
    key: "server.metrics_listen",
    get: (c) => c.server.metricsListen,
    good: [
      ['"127.0.0.1"', "127.0.0.1"],
      ['"::"', "::"],
      ['"[::1]"', "::1"],
      ["metrics.lan", "metrics.lan"],
    ],
    bad: [
      ['"127.0.0.1:9091"', "is not a valid host (give the address without a port)", "without a port"],
      ['"no such"', "is not a valid host", "IPv4"],
    ],
  },
  boolCase("server.metrics_enabled", (c) => c.server.metricsEnabled),
  intCase("server.max_message_bytes", (c) => c.server.maxMessageBytes, 1024, 268435456),
  intCase("server.shutdown_timeout_seconds", (c) => c.server.shutdownTimeoutSeconds, 1, 3600),
  {
    key: "hypervisor.backend",
    get: (c) => c.hypervisor.backend,
    good: [
      ["mock", "mock"],
      ["LIBVIRT", "libvirt"],
    ],
    bad: [
      ["kvm", "is not one of: mock, libvirt", "one of: mock, libvirt"],
      ["1", "is not one of: mock, libvirt", "mock"],
    ],
  },
  {
    key: "hypervisor.libvirt_uri",
    get: (c) => c.hypervisor.libvirtUri,
    good: [
      ['"qemu+ssh://root@hv2/system"', "qemu+ssh://root@hv2/system"],
      ['"test:///default"', "test:///default"],
    ],
    bad: [['"qemu/system"', "is not a valid libvirt URI", "qemu:///system"]],
  },
  pathCase("hypervisor.storage_path", (c) => c.hypervisor.storagePath),
  {
    key: "hypervisor.console_listen",
    get: (c) => c.hypervisor.consoleListen,
    good: [["127.0.0.1", "127.0.0.1"]],
    bad: [['"a b"', "is not a valid host", "IPv4"]],
  },
  {
    key: "hypervisor.default_network",
    get: (c) => c.hypervisor.defaultNetwork,
    good: [
      ["br-mgmt", "br-mgmt"],
      ["default", "default"],
    ],
    bad: [['"a/b"', "is not a network name", "libvirt network name"]],
  },
  intCase("hypervisor.stop_timeout_seconds", (c) => c.hypervisor.stopTimeoutSeconds, 1, 3600),
  intCase("hypervisor.libvirt_workers", (c) => c.hypervisor.libvirtWorkers, 1, 64),
  intCase("hypervisor.libvirt_long_workers", (c) => c.hypervisor.libvirtLongWorkers, 1, 64),
  intCase("hypervisor.libvirt_queue_limit", (c) => c.hypervisor.libvirtQueueLimit, 1, 100000),
  intCase("hypervisor.libvirt_call_deadline_ms", (c) => c.hypervisor.libvirtCallDeadlineMs, 10, 3600000),
  {
    key: "hypervisor.cpu_disabled_features",
    get: (c) => c.hypervisor.cpuDisabledFeatures,
    good: [
      ["[arch-capabilities, amd-ssbd]", ["arch-capabilities", "amd-ssbd"]],
      ["[]", []],
      ["null", []],
    ],
    bad: [
      ["arch-capabilities", "is not a list", "a list of libvirt CPU feature names"],
      ['["Arch Caps"]', "is not a CPU feature name", "lower-case letters", "hypervisor.cpu_disabled_features[0]"],
      ["[pcid, [x]]", "is not a string", "CPU feature names", "hypervisor.cpu_disabled_features[1]"],
    ],
  },
  pathCase("storage.cloud_images", (c) => c.storage.cloudImages),
  pathCase("storage.iso_images", (c) => c.storage.isoImages),
  {
    key: "control_plane.address",
    get: (c) => c.controlPlane.address,
    good: [
      ['"https://cp.example.com:8443"', "https://cp.example.com:8443"],
      ['"http://[::1]:8080"', "http://[::1]:8080"],
    ],
    bad: [
      ['"ftp://cp:21"', "is not an http:// or https:// URL (scheme is ftp)", "http://"],
      ['"cp.example.com"', "is not a valid URL", "http://"],
      ['"http://cp:99999"', "is not a valid URL", "http://"],
    ],
  },
  {
    // true alone is refused (no address): that rule has its own test below.
    key: "control_plane.registration_enabled",
    get: (c) => c.controlPlane.registrationEnabled,
    good: [["false", false]],
    bad: [
      ["yes", "is not a boolean", "true or false"],
      ['"false"', "is not a boolean", "unquoted"],
    ],
  },
  intCase("control_plane.heartbeat_interval_secs", (c) => c.controlPlane.heartbeatIntervalSecs, 1, 3600),
  pathCase("control_plane.ca_file", (c) => c.controlPlane.caFile),
  {
    key: "control_plane.management_ip",
    get: (c) => c.controlPlane.managementIp,
    good: [
      ['"192.168.1.10"', "192.168.1.10"],
      ['"192.168.1.10:9090"', "192.168.1.10:9090"],
      ['"[fe80::1]:9090"', "[fe80::1]:9090"],
      ['"fe80::1"', "fe80::1"],
      ["hv1.lan", "hv1.lan"],
    ],
    bad: [
      ['"192.168.1.10:99999"', "is not a valid host or host:port (port must be 1-65535)", "optionally with :port"],
      ['"x y"', "is not a valid host (expected an IPv4 address, an IPv6 address or a hostname)", "optionally with :port"],
    ],
  },
  boolCase("tls.enabled", (c) => c.tls.enabled),
  pathCase("tls.cert_path", (c) => c.tls.certPath),
  pathCase("tls.key_path", (c) => c.tls.keyPath),
  // With TLS off a client CA gets a warning; the rule has its own test below.
  { ...pathCase("tls.client_ca_path", (c) => c.tls.clientCaPath), siblings: "enabled: true" },
  pathCase("telemetry.proc_root", (c) => c.telemetry.procRoot),
  pathCase("telemetry.sys_root", (c) => c.telemetry.sysRoot),
  pathCase("telemetry.etc_root", (c) => c.telemetry.etcRoot),
  pathCase("agent.socket_dir", (c) => c.agent.socketDir),
  {
    key: "agent.allowed_callers",
    get: (c) => c.agent.allowedCallers,
    good: [['[10.0.0.0/8, "::1", cp.lan, "*"]', ["10.0.0.0/8", "::1", "cp.lan", "*"]]],
    bad: [['["10.0.0.0/33"]', "has a prefix length outside 0-32", "a CIDR range", "agent.allowed_callers[0]"]],
  },
  pathCase("agent.bearer_token_file", (c) => c.agent.bearerTokenFile),
  {
    key: "agent.rest_listen_address",
    get: (c) => c.agent.restListenAddress,
    good: [
      ['"127.0.0.1:8443"', "127.0.0.1:8443"],
      ["off", undefined],
    ],
    bad: [['"127.0.0.1"', "is not a valid host:port (missing :port, e.g. 0.0.0.0:9090)", "host:port"]],
  },
  pathCase("agent.rest_cert_path", (c) => c.agent.restCertPath),
  pathCase("agent.rest_key_path", (c) => c.agent.restKeyPath),
  pathCase("agent.rest_client_ca_path", (c) => c.agent.restClientCaPath),
  { key: "agent.ping_interval_secs", get: (c) => c.agent.pingIntervalSecs, good: [["5", 5]], bad: [["0", "is not an integer from 1 to 3600", "1"]] },
  { key: "agent.request_timeout_secs", get: (c) => c.agent.requestTimeoutSecs, good: [["5", 5]], bad: [["0", "is not an integer from 1 to 3600", "1"]] },
  {
    key: "host_ui.pam_service",
    get: (c) => c.hostUi.pamService,
    good: [["common-auth", "common-auth"]],
    bad: [['"../shadow"', "is not a PAM service name", "/etc/pam.d"]],
  },
  {
    key: "host_ui.admin_group",
    get: (c) => c.hostUi.adminGroup,
    good: [["wheel", "wheel"]],
    bad: [['"9admins"', "is not a group name", "group name"]],
  },
  { key: "host_ui.session_idle_minutes", get: (c) => c.hostUi.sessionIdleMinutes, good: [["30", 30]], bad: [["0", "is not an integer from 1 to 10080", "1"]] },
  { key: "host_ui.session_max_hours", get: (c) => c.hostUi.sessionMaxHours, good: [["8", 8]], bad: [["0", "is not an integer from 1 to 720", "1"]] },
  {
    key: "log.level",
    get: (c) => c.log.level,
    good: [
      ["debug", "debug"],
      ["TRACE", "trace"],
      ["silent", "silent"],
    ],
    bad: [["verbose", "is not one of: silent, error, warn, info, debug, trace", "one of: silent, error, warn, info, debug, trace"]],
  },
  {
    key: "log.format",
    get: (c) => c.log.format,
    good: [["json", "json"]],
    bad: [["xml", "is not one of: text, json", "text, json"]],
  },
];

/** The key placed in a file of the nested layout: `section:\n  leaf: literal`. */
function yamlFor(key: string, literal: string, siblings?: string): string {
  const dot = key.indexOf(".");
  if (dot < 0) return `${key}: ${literal}\n`;
  return `${key.slice(0, dot)}:\n  ${key.slice(dot + 1)}: ${literal}\n${siblings ? `  ${siblings}\n` : ""}`;
}

test("every key of the table has a case here", () => {
  expect(CASES.map((c) => c.key).sort()).toEqual(KEYS.map((k) => k.key).sort());
});

describe.each(CASES)("$key", (c) => {
  test.each(c.good.map(([literal, expected]) => ({ literal, expected })))("accepts $literal", ({ literal, expected }) => {
    const { config, warnings } = load({ yaml: yamlFor(c.key, literal, c.siblings) });
    expect(c.get(config)).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  const bad = c.bad.map(([literal, problem, allowed, key]) => ({ literal, problem, allowed, key: key ?? c.key }));
  test.each(bad)("refuses $literal", ({ literal, problem, allowed, key }) => {
    const err = loadError({ yaml: yamlFor(c.key, literal, c.siblings) });
    expect(err.key).toBe(key);
    expect(err.message.startsWith(`config: ${key}: `)).toBe(true);
    expect(err.message).toContain(problem);
    expect(err.allowed).toContain(allowed);
    expect(err.exitCode).toBe(2);
    // The value errors point at the value in the file.
    expect(err.line).toBe(c.key.includes(".") ? 2 : 1);
    expect(err.message).toContain(`(at /etc/limiquantix/node.yaml:${err.line}:`);
  });
});

test("the message has the documented shape", () => {
  const err = loadError({ yaml: 'server:\n  listen_address: "0.0.0.0:99999"\n' });
  expect(err.message).toBe(
    'config: server.listen_address: "0.0.0.0:99999" is not a valid host:port (port must be 1-65535) (at /etc/limiquantix/node.yaml:2:19)',
  );
  expect(err.value).toBe("0.0.0.0:99999");
});

describe("environment and flag values are converted and checked", () => {
  test.each([
    ["LIMIQUANTIX_SERVER_METRICS_PORT", "abc", "is not an integer from 1 to 65535"],
    ["LIMIQUANTIX_TLS_ENABLED", "maybe", "is not a boolean (true/false, 1/0, yes/no, on/off)"],
    ["LIMIQUANTIX_NODE_LABELS", "rack", 'has "rack", which is not name=value'],
    ["LIMIQUANTIX_LOG_LEVEL", "loud", "is not one of: silent, error, warn, info, debug, trace"],
    ["LIMIQUANTIX_CONTROL_PLANE_URL", "cp:8080", "is not an http:// or https:// URL (scheme is cp)"],
  ])("%s=%s", (name, value, problem) => {
    const err = loadError({ env: { [name]: value } });
    expect(err.key).toBe(name);
    expect(err.message).toBe(`config: ${name}: ${JSON.stringify(value)} ${problem}`);
  });

  test.each([
    [{ metricsPort: "x" }, "--metrics-port", '"x" is not an integer from 1 to 65535'],
    [{ metricsPort: 0 }, "--metrics-port", "0 is not an integer from 1 to 65535"],
    [{ nodeId: "abc" }, "--node-id", '"abc" is not a valid UUID (expected 8-4-4-4-12 hex digits)'],
    [{ backend: "kvm" }, "--backend", '"kvm" is not one of: mock, libvirt'],
    [{ listen: "localhost" }, "--listen", '"localhost" is not a valid host:port (missing :port, e.g. 0.0.0.0:9090)'],
    [{ logFormat: "xml" }, "--log-format", '"xml" is not one of: text, json'],
  ])("flags %o", (flags, key, rest) => {
    const err = loadError({ flags });
    expect(err.key).toBe(key);
    expect(err.message).toBe(`config: ${key}: ${rest}`);
  });

  test("env booleans, integers and labels", () => {
    const { config } = load({
      env: {
        LIMIQUANTIX_TLS_ENABLED: "YES",
        LIMIQUANTIX_SERVER_METRICS_ENABLED: "0",
        LIMIQUANTIX_SERVER_METRICS_PORT: " 9100 ",
        LIMIQUANTIX_NODE_LABELS: "rack=A1, zone = z1,empty=",
      },
    });
    expect(config.tls.enabled).toBe(true);
    expect(config.server.metricsEnabled).toBe(false);
    expect(config.server.metricsPort).toBe(9100);
    expect(config.node.labels).toEqual({ rack: "A1", zone: "z1", empty: "" });
  });
});

describe("rules between keys", () => {
  test("registration needs an address, wherever it was enabled", () => {
    expect(loadError({ yaml: "auto_register: true\n" }).message).toBe(
      "config: auto_register: true needs a control plane address (set control_plane.address, LIMIQUANTIX_CONTROL_PLANE_ADDRESS or --control-plane)",
    );
    expect(loadError({ flags: { register: true } }).key).toBe("--register");
    const { config } = load({ flags: { register: true, controlPlane: "http://127.0.0.1:8080" } });
    expect(config.controlPlane).toMatchObject({ registrationEnabled: true, address: "http://127.0.0.1:8080" });
  });

  test("the metrics port may not be the API port on the same address", () => {
    const err = loadError({ yaml: "server:\n  listen_address: 0.0.0.0:9100\n  metrics_port: 9100\n" });
    expect(err.key).toBe("server.metrics_port");
    expect(err.message).toContain("9100 is also the API port of server.listen_address (0.0.0.0:9100)");
    for (const listen of ["[::]:9100", "[0:0:0:0:0:0:0:0]:9100", "127.0.0.1:9100"]) {
      expect(loadError({ yaml: `server:\n  listen_address: "${listen}"\n  metrics_port: 9100\n` }).key).toBe("server.metrics_port");
    }
    expect(loadError({ yaml: "server:\n  listen_address: 10.0.0.5:9100\n  metrics_port: 9100\n  metrics_listen: 0:0::0\n" }).key).toBe("server.metrics_port");
    // Different addresses, or metrics off: fine.
    expect(load({ yaml: "server:\n  listen_address: 10.0.0.5:9100\n  metrics_port: 9100\n  metrics_listen: 127.0.0.1\n" }).config.server.metricsPort).toBe(
      9100,
    );
    expect(load({ yaml: "server:\n  listen_address: 0.0.0.0:9100\n  metrics_port: 9100\n  metrics_enabled: false\n" }).warnings).toEqual([]);
  });

  test("the HTTP/1.1 listener shares a port with neither the API nor the metrics endpoint", () => {
    const api = loadError({ yaml: "server:\n  listen_address: 0.0.0.0:9090\n  http1_listen_address: 127.0.0.1:9090\n" });
    expect(api.key).toBe("server.http1_listen_address");
    expect(api.message).toBe(
      'config: server.http1_listen_address: "127.0.0.1:9090" uses the API port of server.listen_address (0.0.0.0:9090); pick another port',
    );
    const metrics = loadError({ env: { LIMIQUANTIX_SERVER_HTTP1_LISTEN_ADDRESS: "[::]:9091" } });
    expect(metrics.key).toBe("LIMIQUANTIX_SERVER_HTTP1_LISTEN_ADDRESS");
    expect(metrics.message).toContain("uses the metrics port of server.metrics_port (9091)");
    // Other addresses, or metrics off: fine.
    const ok = "server:\n  listen_address: 10.0.0.5:9090\n  metrics_listen: 127.0.0.1\n  http1_listen_address: 10.0.0.6:9090\n";
    expect(load({ yaml: ok }).config.server.http1ListenAddress).toBe("10.0.0.6:9090");
    expect(load({ yaml: "server:\n  metrics_enabled: false\n  http1_listen_address: 0.0.0.0:9091\n" }).warnings).toEqual([]);
    expect("http1ListenAddress" in load({}).config.server).toBe(false);
  });

  test("the HTTP/1.1 listener is refused with TLS: it is cleartext only", () => {
    const err = loadError({ yaml: "server:\n  http1_listen_address: 127.0.0.1:9092\ntls:\n  enabled: true\n" });
    expect(err.key).toBe("server.http1_listen_address");
    expect(err.message).toContain("cannot be used with tls.enabled: true; this listener serves cleartext HTTP/1.1 only");
    expect(err.message).toContain("Bun issue #14097");
  });

  test("soft contradictions are warnings", () => {
    expect(load({ yaml: "tls:\n  client_ca_path: /etc/ca.pem\n" }).warnings).toEqual([
      "config: tls.client_ca_path is set but tls.enabled is false, so client certificates are not checked",
    ]);
    expect(load({ yaml: "control_plane:\n  address: http://cp:8080\n  ca_file: /etc/ca.pem\n" }).warnings).toEqual([
      "config: control_plane.ca_file is set but the control plane address is http://, so it is not used",
    ]);
  });
});

test("a list from the environment is comma-separated, and each item is checked", () => {
  const { config } = load({ env: { LIMIQUANTIX_HYPERVISOR_CPU_DISABLED_FEATURES: " arch-capabilities, amd-ssbd ," } });
  expect(config.hypervisor.cpuDisabledFeatures).toEqual(["arch-capabilities", "amd-ssbd"]);
  const err = loadError({ env: { LIMIQUANTIX_HYPERVISOR_CPU_DISABLED_FEATURES: "pcid,Bad!" } });
  expect(err.key).toBe("LIMIQUANTIX_HYPERVISOR_CPU_DISABLED_FEATURES[1]");
  expect(err.message).toContain("is not a CPU feature name");
});
