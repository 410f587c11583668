// The address the control plane dials back: the rule from the control plane's contract is the
// first non-loopback, non-link-local IPv4 address, 127.0.0.1 when there is none. A configured
// address always wins over detection.
import type { NetworkInterfaceInfo } from "node:os";

export type InterfaceMap = NodeJS.Dict<NetworkInterfaceInfo[]>;

function isLinkLocalV4(address: string): boolean {
  return address.startsWith("169.254.");
}

/** Pure: the first usable IPv4 address in the map's own order, or 127.0.0.1. */
export function detectManagementIp(interfaces: InterfaceMap): string {
  for (const addresses of Object.values(interfaces)) {
    for (const info of addresses ?? []) {
      // Node reports family as "IPv4"; some older runtimes used the number 4.
      const family = info.family as string | number;
      if (family !== "IPv4" && family !== 4) continue;
      if (info.internal || info.address.startsWith("127.")) continue;
      if (isLinkLocalV4(info.address)) continue;
      return info.address;
    }
  }
  return "127.0.0.1";
}

/** True when the value already names a port ("10.0.0.5:9090", "[fd00::1]:9090"). */
function hasPort(value: string): boolean {
  if (value.startsWith("[")) return /^\[[^\]]+\]:\d+$/.test(value);
  return /^[^:]+:\d+$/.test(value);
}

/**
 * "ip:grpcPort" for RegisterNode's management_ip. A configured value may carry its own port
 * (kept as given); a bare IPv6 address is bracketed.
 */
export function managementEndpoint(configured: string | undefined, interfaces: InterfaceMap, grpcPort: number): string {
  const value = configured?.trim();
  if (value !== undefined && value !== "") {
    if (hasPort(value)) return value;
    return value.includes(":") ? `[${value}]:${grpcPort}` : `${value}:${grpcPort}`;
  }
  return `${detectManagementIp(interfaces)}:${grpcPort}`;
}

/**
 * The host part of a management endpoint, for addresses the node announces (console host):
 * "10.0.0.5:9090" -> "10.0.0.5", "[fd00::1]:9090" -> "fd00::1"; detected when nothing is known.
 */
export function managementHost(endpoint: string | undefined, interfaces: InterfaceMap): string {
  const value = endpoint?.trim() ?? "";
  if (value === "") return detectManagementIp(interfaces);
  if (value.startsWith("[")) return value.slice(1, value.indexOf("]"));
  return hasPort(value) ? value.slice(0, value.lastIndexOf(":")) : value;
}
