// A self-signed certificate for the REST listener when the operator configured none: made once
// (ECDSA P-256, 10 years, SANs for the host's names and addresses) under node.state_dir/tls and
// reused at every start, so the control plane sees one certificate. Built here with node:crypto
// and a small DER writer instead of a library or an openssl shell-out: a certificate is a
// handful of fixed ASN.1 structures, and the daemon then needs no new dependency.

import { generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isIPv4, isIPv6 } from "node:net";
import { posix } from "node:path";

// ---- DER
function len(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  return Buffer.concat([Uint8Array.of(tag), len(body.length), body]);
}
const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);
const set = (...p: Uint8Array[]) => tlv(0x31, ...p);
export function oid(dotted: string): Uint8Array {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}
function integer(bytes: Uint8Array): Uint8Array {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && ((b[1] ?? 0) & 0x80) === 0) b = b.subarray(1);
  return tlv(0x02, (b[0] ?? 0) & 0x80 ? Buffer.concat([Uint8Array.of(0), b]) : b);
}
function time(d: Date): Uint8Array {
  const iso = `${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;
  // UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), utf8(cn))));

function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  const [head = "", tail = ""] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return Uint8Array.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

export interface SelfSigned {
  certPem: string;
  keyPem: string;
}

/** A fresh self-signed server certificate for `names` (hostnames and IP addresses). */
export function createSelfSigned(commonName: string, names: readonly string[], now = new Date()): SelfSigned {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  const ecdsaSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + 10 * 365 * 86_400_000);
  const sans = names.map((n) => (isIPv4(n) || isIPv6(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n))));
  const extensions = tlv(
    0xa3,
    seq(
      seq(oid("2.5.29.17"), tlv(0x04, seq(...sans))),
      // basicConstraints: not a CA; keyUsage: digitalSignature; extKeyUsage: serverAuth.
      seq(oid("2.5.29.19"), tlv(0x04, seq())),
      seq(oid("2.5.29.15"), tlv(0x01, Uint8Array.of(0xff)), tlv(0x04, tlv(0x03, Uint8Array.of(0x07, 0x80)))),
      seq(oid("2.5.29.37"), tlv(0x04, seq(oid("1.3.6.1.5.5.7.3.1")))),
    ),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = seq(
    tlv(0xa0, integer(Uint8Array.of(2))),
    integer(serial),
    ecdsaSha256,
    name(commonName),
    seq(time(notBefore), time(notAfter)),
    name(commonName),
    spki,
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Uint8Array.of(0), signature));
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

/**
 * The certificate under dir (rest.crt, rest.key), made on first use and reused after; one that
 * no longer parses or has expired is replaced.
 */
export async function loadOrCreateSelfSigned(
  dir: string,
  commonName: string,
  names: readonly string[],
): Promise<SelfSigned & { created: boolean; path: string }> {
  const certPath = posix.join(dir, "rest.crt");
  const keyPath = posix.join(dir, "rest.key");
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
    const cert = new X509Certificate(certPem);
    if (new Date(cert.validTo).getTime() > Date.now() + 86_400_000) return { certPem, keyPem, created: false, path: certPath };
  } catch {
    // absent or unreadable: make a new one
  }
  const made = createSelfSigned(commonName, names);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(`${keyPath}.tmp`, made.keyPem, { mode: 0o600 });
  await writeFile(`${certPath}.tmp`, made.certPem, { mode: 0o644 });
  await chmod(`${keyPath}.tmp`, 0o600);
  await rename(`${keyPath}.tmp`, keyPath);
  await rename(`${certPath}.tmp`, certPath);
  return { ...made, created: true, path: certPath };
}
