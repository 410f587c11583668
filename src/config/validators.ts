// Pure checks for config values. Each returns the normalized value, or the problem in words
// ("is not a valid host:port (port must be 1-65535)") and what would have been accepted.

import { isIPv4, isIPv6 } from "node:net";
import { posix } from "node:path";

export type Check<T> = { ok: true; value: T } | { ok: false; problem: string; allowed: string };

const ok = <T>(value: T): Check<T> => ({ ok: true, value });
const bad = <T>(problem: string, allowed: string): Check<T> => ({ ok: false, problem, allowed });

const HOST_PORT_ALLOWED = "host:port with an IPv4 address, [IPv6] address or hostname, and a port 1-65535";
const HOST_ALLOWED = "an IPv4 address, an IPv6 address or a hostname, without a port";
const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 1123 hostname; an all-numeric dotted name must be a real IPv4 address instead. */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = (s.endsWith(".") ? s.slice(0, -1) : s).split(".");
  if (!labels.every((l) => HOSTNAME_LABEL.test(l))) return false;
  // "999.1.1.1" matches the label rule but is a mistyped address, not a name.
  return !labels.every((l) => /^\d+$/.test(l));
}

function checkPort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

export function checkHostPort(s: string): Check<string> {
  const not = (why: string) => bad<string>(`is not a valid host:port (${why})`, HOST_PORT_ALLOWED);
  if (s.startsWith("[")) {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(s);
    if (!m) return not("expected [IPv6]:port");
    if (!isIPv6(m[1] ?? "")) return not(`${JSON.stringify(m[1])} is not an IPv6 address`);
    return checkPort(m[2] ?? "") === undefined ? not("port must be 1-65535") : ok(s);
  }
  const colons = s.split(":").length - 1;
  if (colons === 0) return not("missing :port, e.g. 0.0.0.0:9090");
  if (colons > 1) return not("IPv6 addresses need brackets, e.g. [::1]:9090");
  const [host = "", port = ""] = s.split(":");
  if (host === "") return not("missing host; use 0.0.0.0 for every interface");
  if (!isIPv4(host) && !isHostname(host)) return not(`${JSON.stringify(host)} is not an IPv4 address or hostname`);
  return checkPort(port) === undefined ? not("port must be 1-65535") : ok(s);
}

/** A bare host for a listener: IPv4, IPv6 (brackets optional, stripped) or hostname. */
export function checkHost(s: string): Check<string> {
  const inner = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  if (isIPv4(inner) || isIPv6(inner) || isHostname(inner)) return ok(inner);
  if (/^[^:]+:\d+$/.test(s) || /^\[.*\]:\d+$/.test(s)) {
    return bad("is not a valid host (give the address without a port)", HOST_ALLOWED);
  }
  return bad("is not a valid host (expected an IPv4 address, an IPv6 address or a hostname)", HOST_ALLOWED);
}

/** The management address the control plane dials back: a host, or host:port. */
export function checkHostOrHostPort(s: string): Check<string> {
  const allowed = "an IPv4 address, IPv6 address or hostname, optionally with :port (1-65535)";
  const asHost = checkHost(s);
  if (asHost.ok) return ok(s);
  if (!s.includes(":")) return bad("is not a valid host (expected an IPv4 address, an IPv6 address or a hostname)", allowed);
  const asHostPort = checkHostPort(s);
  if (asHostPort.ok) return ok(s);
  return bad(asHostPort.problem.replace("host:port", "host or host:port"), allowed);
}

export function checkNodeHostname(s: string): Check<string> {
  return isHostname(s)
    ? ok(s)
    : bad(
        "is not a valid hostname (letters, digits and '-' in dot-separated labels)",
        "an RFC 1123 hostname: letters, digits and '-', dot-separated labels of 1-63 characters",
      );
}

export function checkHttpUrl(s: string): Check<string> {
  const allowed = "an http:// or https:// URL, e.g. http://192.168.1.100:8080";
  if (/\s/.test(s)) return bad("is not a valid URL (it contains whitespace)", allowed);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return bad("is not a valid URL (expected http:// or https://, e.g. http://192.168.1.100:8080)", allowed);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return bad(`is not an http:// or https:// URL (scheme is ${url.protocol.slice(0, -1)})`, allowed);
  }
  // WHATWG parsing turns "http:///x" into host "x"; an operator who wrote that meant something else.
  if (url.hostname === "" || !/^https?:\/\/[^/]/i.test(s)) return bad("is not a valid URL (missing host)", allowed);
  return ok(s);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkUuid(s: string): Check<string> {
  return UUID.test(s)
    ? ok(s.toLowerCase())
    : bad("is not a valid UUID (expected 8-4-4-4-12 hex digits)", "a UUID such as 0d6f3a52-9b1c-4e0a-8d7e-2f3c4b5a6978");
}

/** Absolute POSIX path, normalized ("/var/lib//x/" becomes "/var/lib/x"). */
export function checkAbsolutePath(s: string): Check<string> {
  const allowed = "an absolute path starting with /";
  if (s.includes("\0")) return bad("is not a valid path (contains a NUL byte)", allowed);
  if (!posix.isAbsolute(s)) return bad("is not an absolute path (it must start with /)", allowed);
  const normalized = posix.normalize(s);
  return ok(normalized.length > 1 && normalized.endsWith("/") ? normalized.slice(0, -1) : normalized);
}

export function checkLibvirtUri(s: string): Check<string> {
  return /^[a-z][a-z0-9+.-]*:\/\/\S*$/i.test(s)
    ? ok(s)
    : bad(
        "is not a valid libvirt URI (e.g. qemu:///system or qemu+ssh://host/system)",
        "a libvirt URI such as qemu:///system, qemu+ssh://host/system or test:///default",
      );
}

const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;

export function checkLabelKey(s: string): Check<string> {
  return LABEL_KEY.test(s)
    ? ok(s)
    : bad(
        "is not a valid label name (letters, digits, '.', '_', '-', '/'; starting and ending with a letter or digit)",
        "1-253 characters of letters, digits, '.', '_', '-', '/', starting and ending with a letter or digit",
      );
}

export function checkLabelValue(s: string): Check<string> {
  return s.length <= 256 && !/[\u0000-\u001f]/.test(s)
    ? ok(s)
    : bad("is not a valid label value (at most 256 characters, no control characters)", "at most 256 characters, no control characters");
}

/** A listener address, or "off" for none. */
export function checkHostPortOrOff(s: string): Check<string> {
  return s === "off" ? ok(s) : checkHostPort(s);
}

const CALLER_ALLOWED = "an IPv4 or IPv6 address, a CIDR range (10.0.0.0/8, fd00::/8), a hostname, or * for every address";

/** One entry of agent.allowed_callers. */
export function checkCallerPattern(s: string): Check<string> {
  if (s === "*") return ok(s);
  const [addr = "", bits, extra] = s.split("/");
  if (extra !== undefined) return bad("is not a valid address or CIDR range", CALLER_ALLOWED);
  if (bits === undefined) return isIPv4(addr) || isIPv6(addr) || isHostname(addr) ? ok(s) : bad("is not an address or hostname", CALLER_ALLOWED);
  const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : -1;
  if (max < 0) return bad("is not a CIDR range (the part before / must be an address)", CALLER_ALLOWED);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return bad(`has a prefix length outside 0-${max}`, CALLER_ALLOWED);
  return ok(s);
}
