// tls.enabled with certificate files that are missing, unreadable, of the wrong kind or not a
// pair: `config check` and `serve` exit 2 naming the key, before anything listens.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import { checkTlsFiles } from "../../src/config/tls-files.ts";
import type { NodeConfig } from "../../src/config/types.ts";
import { makePki, openssl } from "../security/certs.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const pki = openssl ? makePki() : undefined;
afterAll(() => pki?.cleanup());

function tlsConfig(tls: Partial<NodeConfig["tls"]>): NodeConfig {
  const { config } = loadConfig({ flags: {}, env: {}, readFile: () => undefined });
  config.tls = { ...config.tls, enabled: true, ...tls };
  return config;
}

function problem(config: NodeConfig, origins: Record<string, string> = {}): ConfigError | undefined {
  try {
    checkTlsFiles(config, origins);
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

describe.skipIf(!pki)("checkTlsFiles", () => {
  const p = (name: string) => (pki as NonNullable<typeof pki>).path(name);

  test("a readable certificate and its own key pass; TLS off checks nothing", () => {
    expect(problem(tlsConfig({ certPath: p("server.crt"), keyPath: p("server.key"), clientCaPath: p("ca.crt") }))).toBeUndefined();
    expect(
      problem({ ...tlsConfig({ certPath: "/nope.crt", keyPath: "/nope.key" }), tls: { enabled: false, certPath: "/nope.crt", keyPath: "/nope.key" } }),
    ).toBeUndefined();
  });

  test.each([
    [
      "missing key (the default path)",
      { keyPath: "/nonexistent/node.key" },
      "tls.key_path",
      'config: tls.key_path (the default): "/nonexistent/node.key" cannot be read: no such file; tls.enabled is true, so the daemon needs it',
    ],
    ["missing certificate", { certPath: "/nonexistent/node.crt" }, "tls.cert_path", "cannot be read: no such file"],
    ["a folder as the key", { keyPath: tmpdir() }, "tls.key_path", "is a folder, not a file"],
    ["a certificate that is not one", { certPath: "KEY_AS_CERT" }, "tls.cert_path", "is not a PEM certificate"],
    ["a key that is not one", { keyPath: "CERT_AS_KEY" }, "tls.key_path", "is not a PEM private key"],
    ["the key of another certificate", { keyPath: "OTHER_KEY" }, "tls.key_path", "is not the private key of the certificate in"],
    ["missing client CA", { clientCaPath: "/nonexistent/ca.crt" }, "tls.client_ca_path", "cannot be read: no such file"],
  ])("%s: exit 2 naming the key", (_name, over, key, text) => {
    const swap = (v: string | undefined) =>
      v === "KEY_AS_CERT" ? p("server.key") : v === "CERT_AS_KEY" ? p("server.crt") : v === "OTHER_KEY" ? p("server-rotated.key") : v;
    const tls = Object.fromEntries(Object.entries(over).map(([k, v]) => [k, swap(v)]));
    const err = problem(tlsConfig({ certPath: p("server.crt"), keyPath: p("server.key"), ...tls }));
    expect(err?.exitCode).toBe(2);
    expect(err?.key).toBe(key);
    expect(err?.message).toContain(text);
  });

  test("a key given in the environment is named with where it came from", () => {
    const err = problem(tlsConfig({ certPath: p("server.crt"), keyPath: "/nonexistent/node.key" }), { "tls.key_path": "env LIMIQUANTIX_TLS_KEY_PATH" });
    expect(err?.message).toStartWith('config: tls.key_path (env LIMIQUANTIX_TLS_KEY_PATH): "/nonexistent/node.key" cannot be read');
  });
});

describe("as an operator meets it", () => {
  async function run(args: string[]) {
    const dir = mkdtempSync(join(tmpdir(), "lq-tlscheck-"));
    const file = join(dir, "node.yaml");
    writeFileSync(
      file,
      `tls:\n  enabled: true\n  cert_path: ${join(dir, "node.crt")}\n  key_path: ${join(dir, "node.key")}\nserver:\n  listen_address: 127.0.0.1:39090\n  metrics_port: 39091\n`,
    );
    const proc = Bun.spawn([process.execPath, MAIN, ...args, "--config", file], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, LIMIQUANTIX_NODE_STATE_DIR: dir },
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    return { stdout, stderr, code, dir };
  }

  test("config check: exit 2 naming tls.cert_path (the first file the daemon would read), nothing printed as valid", async () => {
    const r = await run(["config", "check"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`tls.cert_path (file ${r.dir}/node.yaml:`);
    expect(r.stderr).toContain("cannot be read: no such file; tls.enabled is true");
    expect(r.stdout).toBe("");
  });

  test("serve: the same exit 2 before anything listens, not a bare ENOENT", async () => {
    const r = await run(["serve", "--backend", "mock"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("tls.cert_path");
    expect(r.stderr).not.toContain("ENOENT");
  });
});
