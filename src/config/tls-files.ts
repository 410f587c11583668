// With tls.enabled, the files the daemon will load at start: each must be readable and hold what
// its key says (a PEM certificate, a PEM private key), and the key must belong to the
// certificate. Checked by `config check` and before `serve` starts anything, so a missing
// node.key is exit 2 naming tls.key_path, not a bare ENOENT from the listener.

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, formatValue } from "./config-error.ts";
import type { ConfigOrigins, NodeConfig } from "./types.ts";

const ERRNO_WORDS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a parent is not a folder",
};

/** The key as the operator can find it: where a non-default value came from. */
function named(key: string, origins: ConfigOrigins): string {
  const origin = origins[key];
  return origin === undefined ? `${key} (the default)` : `${key} (${origin})`;
}

function fail(key: string, path: string, origins: ConfigOrigins, problem: string, allowed: string): never {
  throw new ConfigError(`config: ${named(key, origins)}: ${formatValue(path)} ${problem}; tls.enabled is true, so the daemon needs it`, {
    key,
    value: path,
    allowed,
  });
}

function readPem(key: string, path: string, origins: ConfigOrigins, read: (path: string) => Buffer): Buffer {
  try {
    return read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(key, path, origins, `cannot be read: ${(code && ERRNO_WORDS[code]) ?? (err as Error).message}`, "a readable PEM file");
  }
}

function certificate(key: string, path: string, origins: ConfigOrigins, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    fail(key, path, origins, "is not a PEM certificate", "a PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
}

function privateKey(key: string, path: string, origins: ConfigOrigins, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    fail(key, path, origins, "is not a PEM private key (or it is encrypted)", "an unencrypted PEM private key");
  }
}

/** Throws a ConfigError (exit 2) naming the first key whose file is missing, unreadable, of the wrong kind, or not the certificate's key. */
export function checkTlsFiles(config: NodeConfig, origins: ConfigOrigins, read: (path: string) => Buffer = readFileSync): void {
  const { tls } = config;
  if (!tls.enabled) return;
  const cert = certificate("tls.cert_path", tls.certPath, origins, readPem("tls.cert_path", tls.certPath, origins, read));
  const key = privateKey("tls.key_path", tls.keyPath, origins, readPem("tls.key_path", tls.keyPath, origins, read));
  if (!cert.checkPrivateKey(key)) {
    fail("tls.key_path", tls.keyPath, origins, `is not the private key of the certificate in ${tls.certPath}`, `the private key of ${tls.certPath}`);
  }
  if (tls.clientCaPath !== undefined) {
    certificate("tls.client_ca_path", tls.clientCaPath, origins, readPem("tls.client_ca_path", tls.clientCaPath, origins, read));
  }
}
