// formatEffectiveConfig: the `config check` output is valid node.yaml that loads back to the
// same config, hides secrets, and says where non-default values came from.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { formatEffectiveConfig, KEYS, redactValue } from "../../src/config/index.ts";
import { CONFIG_GETTERS } from "../../src/config/format-config.ts";
import { load } from "./helpers.ts";

const BUSY = `
node:
  id: 0d6f3a52-9b1c-4e0a-8d7e-2f3c4b5a6978
  hostname: hv-01
  labels: {rack: A1, "topology.kubernetes.io/zone": z1}
server:
  listen_address: "[::]:9443"
  metrics_listen: 127.0.0.1
control_plane:
  address: https://cp.example.com:8443
  registration_enabled: true
  ca_file: /etc/ssl/cp.pem
  management_ip: 10.0.0.5
tls:
  enabled: true
  client_ca_path: /etc/ssl/clients.pem
`;

describe("formatEffectiveConfig", () => {
  test("loads back to the same config with no warnings", () => {
    for (const options of [{}, { flags: { dev: true } }, { yaml: BUSY, env: { LIMIQUANTIX_LOG_FORMAT: "json" } }]) {
      const first = load(options).config;
      const again = load({ yaml: formatEffectiveConfig(first) });
      expect(again.warnings).toEqual([]);
      expect(again.config).toEqual(first);
    }
  });

  test("lists every key of the table in the nested layout, unset ones as null", () => {
    const tree = parse(formatEffectiveConfig(load().config)) as Record<string, Record<string, unknown>>;
    for (const { key } of KEYS) {
      const [section, leaf] = key.includes(".") ? key.split(".") : [undefined, key];
      const holder = section === undefined ? tree : tree[section];
      expect(holder && leaf !== undefined && leaf in holder).toBe(true);
    }
    expect(tree.node?.id).toBeNull();
    expect(Object.keys(tree)).toEqual(["dev", "node", "server", "hypervisor", "storage", "control_plane", "tls", "telemetry", "agent", "host_ui", "log"]);
  });

  test("has a getter for every key", () => {
    expect(Object.keys(CONFIG_GETTERS).sort()).toEqual(KEYS.map((k) => k.key).sort());
  });

  test("comments where each value came from", () => {
    const { config, origins } = load({
      yaml: "log:\n  level: warn\nnode:\n  labels: {a: b}\n",
      flags: { listen: "127.0.0.1:1" },
      env: { LIMIQUANTIX_LOG_FORMAT: "json" },
    });
    const text = formatEffectiveConfig(config, origins);
    expect(text).toContain("  level: warn # file /etc/limiquantix/node.yaml:2:10\n");
    expect(text).toContain("  format: json # env LIMIQUANTIX_LOG_FORMAT\n");
    expect(text).toContain("  listen_address: 127.0.0.1:1 # flag --listen\n");
    expect(text).toContain("  labels: # file /etc/limiquantix/node.yaml:4:11\n    a: b\n");
    expect(text).toContain("  metrics_port: 9091\n");
  });
});

describe("secrets are redacted", () => {
  test("a password inside a URL", () => {
    const { config } = load({ yaml: "control_plane:\n  address: https://node:s3cret@cp:8443/api\n" });
    const text = formatEffectiveConfig(config);
    expect(text).not.toContain("s3cret");
    expect(text).toContain("address: https://node:REDACTED@cp:8443/api");
  });

  test.each([
    ["console.password", "hunter2", "REDACTED"],
    ["registration.token", "abc", "REDACTED"],
    ["tls.key_path", "/etc/x.key", "/etc/x.key"],
    ["hypervisor.libvirt_uri", "qemu+ssh://root:pw@hv2/system", "qemu+ssh://root:REDACTED@hv2/system"],
    ["hypervisor.libvirt_uri", "qemu+ssh://root@hv2/system", "qemu+ssh://root@hv2/system"],
    ["control_plane.address", "http://cp:8080", "http://cp:8080"],
  ])("%s = %s", (key, value, shown) => {
    expect(redactValue(key, value)).toBe(shown);
  });
});

describe("round trip over generated configs", () => {
  // Small hand-made generators: fast-check's domain() and webUrl() are slow to build.
  const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
  const host = fc.array(fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/), { minLength: 1, maxLength: 3 }).map((l) => l.join("."));
  const absPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`);
  // API and metrics ports never collide here: that combination is an error, tested elsewhere.
  const port = fc.integer({ min: 1001, max: 65535 });
  const metricsPort = fc.integer({ min: 1, max: 1000 });
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
  const listen = fc.oneof(
    fc.tuple(ipv4, port).map(([h, p]) => `${h}:${p}`),
    fc.tuple(fc.ipV6(), port).map(([h, p]) => `[${h}]:${p}`),
    fc.tuple(host, port).map(([h, p]) => `${h}:${p}`),
  );
  const labelValue = fc.string({ maxLength: 30 }).filter((s) => !/[\u0000-\u001f]/.test(s) && s.trim() === s);
  const labels = fc.dictionary(fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,10}[A-Za-z0-9])?$/), labelValue, { maxKeys: 4 });
  const file = fc.record(
    {
      dev: fc.boolean(),
      node: fc.record({ hostname: host, labels, state_dir: absPath }, { requiredKeys: [] }),
      server: fc.record(
        { listen_address: listen, metrics_port: metricsPort, metrics_enabled: fc.boolean(), max_message_bytes: fc.integer({ min: 1024, max: 1 << 28 }) },
        { requiredKeys: [] },
      ),
      hypervisor: fc.record(
        { backend: fc.constantFrom("mock", "libvirt"), storage_path: absPath, console_listen: fc.oneof(ipv4, fc.ipV6()) },
        { requiredKeys: [] },
      ),
      control_plane: fc.record(
        {
          address: fc.tuple(fc.constantFrom("http", "https"), host, port, absPath).map(([s, h, p, path]) => `${s}://${h}:${p}${path}`),
          heartbeat_interval_secs: fc.integer({ min: 1, max: 3600 }),
        },
        { requiredKeys: [] },
      ),
      log: fc.record(
        { level: fc.constantFrom("silent", "error", "warn", "info", "debug", "trace"), format: fc.constantFrom("text", "json") },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );

  test("any valid file prints to YAML that loads back to the same config", () => {
    fc.assert(
      fc.property(file, (tree) => {
        const first = load({ yaml: stringify(tree) });
        expect(first.warnings).toEqual([]);
        const again = load({ yaml: formatEffectiveConfig(first.config, first.origins) });
        expect(again.config).toEqual(first.config);
      }),
      { numRuns: Number(process.env.ROUNDTRIP_RUNS ?? 100) },
    );
  }, 600_000);
});
