// The client's TLS flags against a daemon serving mutual TLS: a CA, a server certificate for
// 127.0.0.1 and a client certificate are made with openssl for this test.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestDaemon, type TestDaemon } from "../../support/daemon.ts";
import { cli } from "./helpers.ts";

const openssl = Bun.which("openssl");
if (openssl === null) console.warn("openssl not found: skipping the client TLS tests");

const dir = mkdtempSync(join(tmpdir(), "lq-cli-tls-"));
const file = (name: string) => join(dir, name);
let d: TestDaemon;

function ssl(args: string[]) {
  const r = Bun.spawnSync([openssl!, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

async function issue(name: string, cn: string, ext: string) {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  ssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  await Bun.write(file(`${name}.cnf`), `${ext}\nbasicConstraints=CA:FALSE\n`);
  ssl([
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "1",
    "-extfile",
    `${name}.cnf`,
  ]);
}

beforeAll(async () => {
  if (openssl === null) return;
  ssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "1",
    "-subj",
    "/CN=limiquantix test CA",
  ]);
  await issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
  await issue("client", "operator", "extendedKeyUsage=clientAuth");
  d = await startTestDaemon((c) => {
    c.tls = { ...c.tls, enabled: true, certPath: file("server.crt"), keyPath: file("server.key"), clientCaPath: file("ca.crt") };
  });
});
afterAll(async () => {
  await d?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(openssl === null)("TLS flags", () => {
  const at = () => `127.0.0.1:${d.daemon.api.port}`;

  test("--tls with --ca, --cert and --key reaches a daemon that requires client certificates", async () => {
    const r = await cli(["status", "--addr", at(), "--tls", "--ca", file("ca.crt"), "--cert", file("client.crt"), "--key", file("client.key")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("(healthy)");
    const url = await cli(["vm", "list", "--addr", `https://${at()}`, "--ca", file("ca.crt"), "--cert", file("client.crt"), "--key", file("client.key")]);
    expect(url.code).toBe(0);
  });

  test("without a client certificate, or without the CA, it is refused with exit 1", async () => {
    const noCert = await cli(["status", "--addr", at(), "--tls", "--ca", file("ca.crt")]);
    expect(noCert.code).toBe(1);
    expect(noCert.stderr).toBe(`error: cannot reach the daemon at ${at()}: TLS: the daemon requires a client certificate (--cert and --key)\n`);
    const noCa = await cli(["status", "--addr", at(), "--tls", "--cert", file("client.crt"), "--key", file("client.key")]);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toStartWith(`error: cannot reach the daemon at ${at()}: TLS: self signed certificate in certificate chain (pass the CA`);
    const plain = await cli(["status", "--addr", at()]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain("if the daemon serves TLS, add --tls and --ca");
  });

  test("TLS files without TLS, a lone --cert, or a missing file are bad usage", async () => {
    const noTls = await cli(["status", "--addr", at(), "--ca", file("ca.crt")]);
    expect(noTls.code).toBe(2);
    expect(noTls.stderr).toBe("error: --ca, --cert and --key need --tls or an https:// address\n");
    const lone = await cli(["status", "--addr", at(), "--tls", "--cert", file("client.crt")]);
    expect(lone.stderr).toBe("error: --cert and --key go together\n");
    const missing = await cli(["status", "--addr", at(), "--tls", "--ca", file("nope.crt")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error: --ca ${file("nope.crt")}: no such file\n`);
  });
});
