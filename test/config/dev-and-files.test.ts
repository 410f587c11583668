// --dev defaults, choosing and reading the config file, and YAML syntax errors with their location.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, devRootDir, loadConfig } from "../../src/config/index.ts";
import { load, loadError } from "./helpers.ts";

describe("--dev", () => {
  const root = devRootDir();

  test("the dev root is per user under the system temp folder", () => {
    const who = typeof process.getuid === "function" ? String(process.getuid()) : "";
    expect(root.startsWith(tmpdir())).toBe(true);
    expect(root.endsWith(`limiquantix-dev-${who}`)).toBe(true);
  });

  test("changes the defaults: mock, loopback, state under the dev root", () => {
    const { config } = load({ flags: { dev: true } });
    expect(config.dev).toBe(true);
    expect(config.hypervisor.backend).toBe("mock");
    expect(config.server.listenAddress).toBe("127.0.0.1:9090");
    expect(config.server.metricsListen).toBe("127.0.0.1");
    expect(config.hypervisor.consoleListen).toBe("127.0.0.1");
    expect(config.node.stateDir).toBe(root);
    expect(config.hypervisor.storagePath).toBe(join(root, "vms"));
    expect(config.storage.isoImages).toBe(join(root, "vms", "iso"));
    expect(config.agent.socketDir).toBe(join(root, "agent"));
  });

  test("leaves alone what was set explicitly, at any layer", () => {
    const { config } = load({
      yaml: "server:\n  listen_address: 0.0.0.0:9090\nhypervisor:\n  backend: libvirt\n",
      env: { LIMIQUANTIX_DEV: "true", LIMIQUANTIX_NODE_STATE_DIR: "/srv/state" },
    });
    expect(config.dev).toBe(true);
    expect(config.server.listenAddress).toBe("0.0.0.0:9090");
    expect(config.hypervisor.backend).toBe("libvirt");
    expect(config.node.stateDir).toBe("/srv/state");
    expect(config.hypervisor.storagePath).toBe("/srv/state/vms");
    expect(config.server.metricsListen).toBe("127.0.0.1");
  });

  test("can be switched on from the file", () => {
    expect(load({ yaml: "dev: true\n" }).config.hypervisor.backend).toBe("mock");
  });

  test("without it, the production defaults", () => {
    const { config, warnings, source } = load();
    expect(warnings).toEqual([]);
    expect(source).toBeUndefined();
    expect(config).toEqual({
      dev: false,
      node: { labels: {}, stateDir: "/var/lib/limiquantix" },
      server: {
        listenAddress: "0.0.0.0:9090",
        metricsPort: 9091,
        metricsListen: "0.0.0.0",
        metricsEnabled: true,
        maxMessageBytes: 4 * 1024 * 1024,
        shutdownTimeoutSeconds: 10,
      },
      hypervisor: {
        backend: "libvirt",
        libvirtUri: "qemu:///system",
        storagePath: "/var/lib/limiquantix/vms",
        consoleListen: "0.0.0.0",
        defaultNetwork: "default",
        stopTimeoutSeconds: 60,
        libvirtWorkers: 4,
        libvirtLongWorkers: 4,
        libvirtQueueLimit: 1024,
        libvirtCallDeadlineMs: 30000,
        cpuDisabledFeatures: [],
      },
      storage: {
        vmImages: "/var/lib/limiquantix/vms",
        cloudImages: "/var/lib/limiquantix/vms/cloud",
        isoImages: "/var/lib/limiquantix/vms/iso",
      },
      controlPlane: { registrationEnabled: false, heartbeatIntervalSecs: 30 },
      tls: { enabled: false, certPath: "/etc/limiquantix/certs/node.crt", keyPath: "/etc/limiquantix/certs/node.key" },
      telemetry: { procRoot: "/proc", sysRoot: "/sys", etcRoot: "/etc" },
      agent: { socketDir: "/var/run/limiquantix/vms", restListenAddress: "0.0.0.0:8443", pingIntervalSecs: 30, requestTimeoutSecs: 30 },
      hostUi: { pamService: "login", adminGroup: "sudo", sessionIdleMinutes: 480, sessionMaxHours: 24 },
      log: { level: "info", format: "text" },
    });
  });
});

describe("which file is read", () => {
  const files = new Map([
    ["/etc/limiquantix/node.yaml", "log:\n  level: warn\n"],
    ["/srv/other.yaml", "log:\n  level: debug\n"],
  ]);
  const base = { readFile: (p: string) => files.get(p), fileExists: (p: string) => files.has(p) };

  test("--config wins over LIMIQUANTIX_CONFIG, which wins over the default path", () => {
    const viaFlag = loadConfig({ ...base, flags: { config: "/srv/other.yaml" }, env: { LIMIQUANTIX_CONFIG: "/nope.yaml" } });
    expect([viaFlag.source, viaFlag.config.log.level]).toEqual(["/srv/other.yaml", "debug"]);
    const viaEnv = loadConfig({ ...base, flags: {}, env: { LIMIQUANTIX_CONFIG: "/srv/other.yaml" } });
    expect([viaEnv.source, viaEnv.config.log.level]).toEqual(["/srv/other.yaml", "debug"]);
    const byDefault = loadConfig({ ...base, flags: {}, env: {} });
    expect([byDefault.source, byDefault.config.log.level]).toEqual(["/etc/limiquantix/node.yaml", "warn"]);
  });

  test("a missing --config file is an error; a missing default file is not", () => {
    const err = loadError({ flags: { config: "/etc/limiquantix/nope.yaml" } });
    expect(err.message).toBe('config: --config: "/etc/limiquantix/nope.yaml" does not exist');
    expect(err.key).toBe("--config");
    expect(loadError({ env: { LIMIQUANTIX_CONFIG: "/nope.yaml" } }).key).toBe("LIMIQUANTIX_CONFIG");
    expect(load().source).toBeUndefined();
  });

  test("an empty file and a comment-only file are empty configs", () => {
    expect(load({ yaml: "" }).config).toEqual(load().config);
    expect(load({ yaml: "# nothing here\n" }).warnings).toEqual([]);
  });

  test("real files through the default readers", () => {
    const dir = mkdtempSync(join(tmpdir(), "lq-config-test-"));
    try {
      const file = join(dir, "node.yaml");
      writeFileSync(file, "listen_address: 127.0.0.1:7000\n");
      const { config, source } = loadConfig({ flags: { config: file }, env: {} });
      expect([source, config.server.listenAddress]).toEqual([file, "127.0.0.1:7000"]);
      expect(() => loadConfig({ flags: { config: join(dir, "missing.yaml") }, env: {} })).toThrow("does not exist");
      // A directory exists but cannot be read as a file.
      const err = (() => {
        try {
          loadConfig({ flags: { config: dir }, env: {} });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe(`config: --config: ${JSON.stringify(dir)} cannot be read (EISDIR)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("YAML syntax errors name the line and column", () => {
  test.each([
    ["server:\n  listen_address: 1.2.3.4:1\n  metrics_port: [9091\n", 4, 1],
    ["server:\n  listen_address: 1\n listen_address: 2\n", 3, 1],
    ["log:\n  level: info\n  level: debug\n", 3, 3],
    ["tls:\n\tenabled: true\n", 2, 1],
    ["node:\n  hostname: 'unterminated\n", 3, 1],
    ["a: 1\n---\nb: 2\n", 2, 1],
  ])("%j", (yaml, line, column) => {
    const err = loadError({ yaml });
    expect(err.message).toStartWith(`config: /etc/limiquantix/node.yaml:${line}:${column}: YAML syntax error: `);
    expect([err.line, err.column]).toEqual([line, column]);
    expect(err.allowed).toBe("a valid YAML document");
  });

  test("the message quotes the line with a caret under the column", () => {
    const err = loadError({ yaml: "log:\n  level: info\n  level: debug\n" });
    expect(err.message.split("\n").slice(1)).toEqual(["  3 |   level: debug", "    |   ^"]);
  });

  test.each([
    ["- a\n- b\n", "the top level is not a mapping"],
    ["just a string\n", "the top level is not a mapping"],
    ["server: 9090\n", "config: server: 9090 is not a mapping of server.* keys (at /etc/limiquantix/node.yaml:1:9)"],
  ])("a document of the wrong shape: %j", (yaml, message) => {
    const err = loadError({ yaml });
    expect(err.message).toContain(message);
  });
});
