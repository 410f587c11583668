// loadConfig: defaults < file < environment < flags. Each layer is validated on its own, so
// an error names the key as that layer spelled it (server.listen_address, listen_address,
// LIMIQUANTIX_LISTEN_ADDRESS or --listen); then the layers are merged and the defaults,
// some of which depend on --dev, fill the rest.

import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { buildConfig, DEFAULT_CONFIG_PATH, devRootDir } from "./build-config.ts";
import { ConfigError, formatValue } from "./config-error.ts";
import { readEnvSettings, readFlagSettings } from "./env-flag-sources.ts";
import { readYamlSettings } from "./file-source.ts";
import { CONFIG_ENV, envName, flagName } from "./keys.ts";
import { type ConfigValue, type Layer, parseValue, type RawEntry } from "./parse-value.ts";
import type { ConfigOrigins, LoadConfigInput, LoadConfigResult, NodeConfig } from "./types.ts";

interface Resolved {
  value: ConfigValue;
  label: string;
  origin: string;
}

export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const readFile = input.readFile ?? readFileIfPresent;
  const fileExists = input.fileExists ?? existsSync;
  const warnings: string[] = [];

  const file = chooseConfigFile(input, fileExists);
  let source: string | undefined;
  let fileEntries: RawEntry[] = [];
  if (file) {
    const text = readConfigText(file, readFile);
    if (text !== undefined) {
      source = file.path;
      const fromFile = readYamlSettings(text, file.path);
      fileEntries = fromFile.entries;
      warnings.push(...fromFile.warnings);
    }
  }
  const fromEnv = readEnvSettings(input.env);
  warnings.push(...fromEnv.warnings);

  const merged = new Map<string, Resolved>();
  const layers: [Layer, RawEntry[]][] = [
    ["file", fileEntries],
    ["env", fromEnv.entries],
    ["flag", readFlagSettings(input.flags)],
  ];
  for (const [layer, entries] of layers) {
    for (const [key, resolved] of resolveLayer(layer, entries)) merged.set(key, resolved);
  }

  const values = new Map([...merged].map(([key, r]) => [key, r.value] as const));
  const config = buildConfig(values, devRootDir());
  warnings.push(...crossCheck(config, merged));
  const origins: ConfigOrigins = Object.fromEntries([...merged].map(([key, r]) => [key, r.origin]));
  return { config, warnings, source, origins };
}

interface ConfigFileChoice {
  path: string;
  /** Named by --config or LIMIQUANTIX_CONFIG: then it must exist. */
  explicit: string | undefined;
}

function chooseConfigFile(input: LoadConfigInput, fileExists: (p: string) => boolean): ConfigFileChoice | undefined {
  const fromFlag = input.flags.config?.trim();
  if (fromFlag) return { path: fromFlag, explicit: flagName("config") };
  const fromEnv = input.env[CONFIG_ENV]?.trim();
  if (fromEnv) return { path: fromEnv, explicit: CONFIG_ENV };
  return fileExists(DEFAULT_CONFIG_PATH) ? { path: DEFAULT_CONFIG_PATH, explicit: undefined } : undefined;
}

function readConfigText(file: ConfigFileChoice, readFile: (p: string) => string | undefined): string | undefined {
  const key = file.explicit ?? file.path;
  let text: string | undefined;
  try {
    text = readFile(file.path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(
      `config: ${key}: ${formatValue(file.path)} cannot be read (${reason})`,
      {
        key,
        value: file.path,
        allowed: "a readable YAML file",
      },
      { cause: err },
    );
  }
  if (text === undefined && file.explicit) {
    throw new ConfigError(`config: ${key}: ${formatValue(file.path)} does not exist`, {
      key,
      value: file.path,
      allowed: "the path of an existing YAML file",
    });
  }
  return text;
}

function readFileIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Validates one layer; a setting given twice in it (a flat key and its nested twin) must agree. */
function resolveLayer(layer: Layer, entries: readonly RawEntry[]): Map<string, Resolved> {
  const out = new Map<string, Resolved & { entry: RawEntry }>();
  for (const entry of entries) {
    const value = parseValue(entry, layer);
    const seen = out.get(entry.spec.key);
    if (seen && !sameValue(seen.value, value)) throw twinConflict(seen.entry, entry);
    if (!seen) out.set(entry.spec.key, { value, label: entry.label, origin: originOf(layer, entry), entry });
  }
  return out;
}

function originOf(layer: Layer, entry: RawEntry): string {
  if (layer === "file") return `file ${entry.where?.location ?? ""}`.trim();
  return `${layer} ${entry.label}`;
}

function sameValue(a: ConfigValue, b: ConfigValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function twinConflict(a: RawEntry, b: RawEntry): ConfigError {
  const at = [a.where?.location, b.where?.location].filter((w) => w !== undefined);
  return new ConfigError(
    `config: ${a.label} (${formatValue(a.raw)}) and ${b.label} (${formatValue(b.raw)}) are the same setting with different values; keep one${at.length ? ` (at ${at.join(" and ")})` : ""}`,
    { key: b.label, value: b.raw, allowed: `the same value as ${a.label}, or only one of the two`, ...b.where },
  );
}

/** Rules between keys, checked on the merged result. Errors throw; soft problems come back as warnings. */
function crossCheck(config: NodeConfig, merged: ReadonlyMap<string, Resolved>): string[] {
  const labelOf = (key: string) => merged.get(key)?.label ?? key;
  const { controlPlane, server, tls } = config;
  if (controlPlane.registrationEnabled && controlPlane.address === undefined) {
    const key = labelOf("control_plane.registration_enabled");
    throw new ConfigError(
      `config: ${key}: true needs a control plane address (set control_plane.address, ${envName("control_plane.address")} or --control-plane)`,
      { key, value: true, allowed: "false, or true together with control_plane.address" },
    );
  }
  const { host: listenHost, port: listenPort } = splitHostPort(server.listenAddress);
  if (server.metricsEnabled && server.metricsPort === listenPort && hostsOverlap(listenHost, server.metricsListen)) {
    const key = labelOf("server.metrics_port");
    throw new ConfigError(`config: ${key}: ${server.metricsPort} is also the API port of server.listen_address (${server.listenAddress}); pick another port`, {
      key,
      value: server.metricsPort,
      allowed: `a port other than ${listenPort}, or server.metrics_enabled: false`,
    });
  }
  if (server.http1ListenAddress !== undefined) checkHttp1Listener(config, labelOf("server.http1_listen_address"));
  const warnings: string[] = [];
  if (tls.clientCaPath !== undefined && !tls.enabled) {
    warnings.push(`config: ${labelOf("tls.client_ca_path")} is set but tls.enabled is false, so client certificates are not checked`);
  }
  if (controlPlane.caFile !== undefined && controlPlane.address?.startsWith("http://")) {
    warnings.push(`config: ${labelOf("control_plane.ca_file")} is set but the control plane address is http://, so it is not used`);
  }
  return warnings;
}

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) };
}

/** The HTTP/1.1 listener is cleartext, and may share a port with neither the API nor the metrics endpoint. */
function checkHttp1Listener({ server, tls }: NodeConfig, key: string): void {
  const address = server.http1ListenAddress ?? "";
  if (tls.enabled) {
    // Bun.serve cannot ask for and verify client certificates (oven-sh/bun#14097), and a
    // cleartext port beside a TLS listener would quietly bypass the TLS (and mTLS) the operator asked for.
    throw new ConfigError(
      `config: ${key}: ${formatValue(address)} cannot be used with tls.enabled: true; this listener serves cleartext HTTP/1.1 only ` +
        "(Bun.serve cannot verify client certificates, Bun issue #14097). Unset it, or turn TLS off",
      { key, value: address, allowed: "unset while tls.enabled is true" },
    );
  }
  const { host, port } = splitHostPort(address);
  const api = splitHostPort(server.listenAddress);
  if (port === api.port && hostsOverlap(host, api.host)) {
    throw new ConfigError(`config: ${key}: ${formatValue(address)} uses the API port of server.listen_address (${server.listenAddress}); pick another port`, {
      key,
      value: address,
      allowed: `a port other than ${api.port}`,
    });
  }
  if (server.metricsEnabled && port === server.metricsPort && hostsOverlap(host, server.metricsListen)) {
    throw new ConfigError(`config: ${key}: ${formatValue(address)} uses the metrics port of server.metrics_port (${server.metricsPort}); pick another port`, {
      key,
      value: address,
      allowed: `a port other than ${server.metricsPort}, or server.metrics_enabled: false`,
    });
  }
}

/** Same host, or either one listens on every address (0.0.0.0, ::, 0:0:0:0:0:0:0:0). */
function hostsOverlap(a: string, b: string): boolean {
  const canonical = (h: string) => (isIPv6(h) ? new URL(`http://[${h}]`).hostname.slice(1, -1) : h.toLowerCase());
  const [x, y] = [canonical(a), canonical(b)];
  const wildcard = (h: string) => h === "0.0.0.0" || h === "::";
  return x === y || wildcard(x) || wildcard(y);
}
