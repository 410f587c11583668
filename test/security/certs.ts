// A throwaway PKI made with Debian's openssl for the TLS tests: the node's CA with a server
// certificate for 127.0.0.1 (and a second one to rotate to), a client certificate the CA
// signed, and a stranger CA with a client certificate of its own. EC P-256 keeps it fast.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const openssl = Bun.which("openssl");

export interface Pki {
  dir: string;
  path(name: string): string;
  read(name: string): Buffer;
  cleanup(): void;
}

export function makePki(): Pki {
  if (!openssl) throw new Error("openssl is not installed");
  const dir = mkdtempSync(join(tmpdir(), "lq-pki-"));
  const run = (args: string[]) => {
    const r = Bun.spawnSync([openssl, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr.toString()}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  writeFileSync(join(dir, "server.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  writeFileSync(join(dir, "client.cnf"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  const ca = (name: string, cn: string) => run(["req", "-x509", ...ec, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${cn}`]);
  const leaf = (name: string, cn: string, by: string, ext: string) => {
    run(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
    run([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${by}.crt`,
      "-CAkey",
      `${by}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-extfile",
      ext,
    ]);
  };
  ca("ca", "limiquantix test node CA");
  ca("stranger-ca", "somebody else's CA");
  leaf("server", "node-original", "ca", "server.cnf");
  leaf("server-rotated", "node-rotated", "ca", "server.cnf");
  leaf("client", "control-plane", "ca", "client.cnf");
  leaf("stranger", "control-plane", "stranger-ca", "client.cnf");
  return {
    dir,
    path: (name) => join(dir, name),
    read: (name) => readFileSync(join(dir, name)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
