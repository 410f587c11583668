// The daemon's flags (the seeds' CLI), shared by the serve command and `config check` so both
// read a configuration the same way.

import type { ArgsDef, ParsedArgs } from "citty";
import type { ConfigFlags } from "../config/types.ts";

export const daemonArgs = {
  dev: { type: "boolean", description: "Development mode: mock hypervisor, loopback listeners, state under the temp dir" },
  config: { type: "string", alias: "c", description: "Config file (default /etc/limiquantix/node.yaml when it exists)", valueHint: "path" },
  listen: { type: "string", description: "API listen address (default 0.0.0.0:9090; 127.0.0.1:9090 with --dev)", valueHint: "host:port" },
  "control-plane": { type: "string", description: "Control plane URL, e.g. http://10.0.0.1:8080", valueHint: "url" },
  register: { type: "boolean", description: "Register with the control plane and send heartbeats" },
  "node-id": { type: "string", description: "Use this node id (UUID) instead of the one the control plane assigns", valueHint: "uuid" },
  "log-level": { type: "string", description: "silent, error, warn, info, debug or trace", valueHint: "level" },
  "log-format": { type: "string", description: "text or json (json suits journald and log shippers)", valueHint: "format" },
  backend: { type: "string", description: "Hypervisor backend: libvirt or mock", valueHint: "name" },
  "libvirt-uri": { type: "string", description: "libvirt connection URI (default qemu:///system)", valueHint: "uri" },
  "storage-path": { type: "string", description: "Where VM disk images live", valueHint: "path" },
  "metrics-port": { type: "string", description: "Prometheus endpoint port (default 9091)", valueHint: "port" },
} as const satisfies ArgsDef;

/** Flags the user gave, and only those: an absent flag must not override the file. */
export function toConfigFlags(args: ParsedArgs<typeof daemonArgs>, rawArgs: string[]): ConfigFlags {
  const given = (name: string) => rawArgs.some((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `--no-${name}`);
  const flags: ConfigFlags = {};
  if (given("dev")) flags.dev = args.dev;
  if (args.config !== undefined) flags.config = args.config;
  if (args.listen !== undefined) flags.listen = args.listen;
  if (args["control-plane"] !== undefined) flags.controlPlane = args["control-plane"];
  if (given("register")) flags.register = args.register;
  if (args["node-id"] !== undefined) flags.nodeId = args["node-id"];
  if (args["log-level"] !== undefined) flags.logLevel = args["log-level"];
  if (args["log-format"] !== undefined) flags.logFormat = args["log-format"];
  if (args.backend !== undefined) flags.backend = args.backend;
  if (args["libvirt-uri"] !== undefined) flags.libvirtUri = args["libvirt-uri"];
  if (args["storage-path"] !== undefined) flags.storagePath = args["storage-path"];
  if (args["metrics-port"] !== undefined) flags.metricsPort = args["metrics-port"];
  return flags;
}
