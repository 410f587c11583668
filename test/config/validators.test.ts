// The value checks on their own: tables of edge cases, and properties over generated addresses.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { checkAbsolutePath, checkHost, checkHostPort, checkHttpUrl, checkUuid, isHostname } from "../../src/config/validators.ts";

describe("isHostname", () => {
  test.each([
    ["localhost", true],
    ["hv-01.example.com", true],
    ["hv-01.example.com.", true],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
    [`${"a.".repeat(126)}ab`, false],
    ["-lead", false],
    ["trail-", false],
    ["under_score", false],
    ["", false],
    ["1.2.3.4", false],
    ["999.1.1.1", false],
    ["1e100", true],
  ])("%s -> %p", (name, expected) => {
    expect(isHostname(name)).toBe(expected);
  });
});

describe("checkHostPort", () => {
  test.each([
    ["0.0.0.0:9090", true],
    ["[::]:9090", true],
    ["[fe80::1%eth0]:9090", true],
    ["[fe80::zz]:9090", false],
    ["localhost:1", true],
    ["localhost:65536", false],
    ["localhost:+80", false],
    ["localhost:080", true],
    ["[::1]9090", false],
    ["", false],
  ])("%s -> %p", (value, expected) => {
    expect(checkHostPort(value).ok).toBe(expected);
  });

  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join("."));
  test("every IPv4 address with a port 1-65535 is accepted", () => {
    fc.assert(fc.property(ipv4, fc.integer({ min: 1, max: 65535 }), (host, port) => checkHostPort(`${host}:${port}`).ok));
  });
  test("every IPv6 address in brackets with a port is accepted", () => {
    fc.assert(fc.property(fc.ipV6(), fc.integer({ min: 1, max: 65535 }), (host, port) => checkHostPort(`[${host}]:${port}`).ok));
  });
  test("a port outside 1-65535 is refused with the port rule", () => {
    fc.assert(
      fc.property(ipv4, fc.oneof(fc.constant(0), fc.integer({ min: 65536, max: 9_999_999 })), (host, port) => {
        const result = checkHostPort(`${host}:${port}`);
        return !result.ok && result.problem === "is not a valid host:port (port must be 1-65535)";
      }),
    );
  });
});

describe("other checks", () => {
  test("hosts: brackets are stripped, ports refused", () => {
    expect(checkHost("[::1]")).toEqual({ ok: true, value: "::1" });
    expect(checkHost("::1").ok).toBe(true);
    expect(checkHost("[::1]:80").ok).toBe(false);
  });

  test.each([
    ["/", "/"],
    ["/var/lib/", "/var/lib"],
    ["/var//lib/./x/../y", "/var/lib/y"],
  ])("path %s normalizes to %s", (input, expected) => {
    expect(checkAbsolutePath(input)).toEqual({ ok: true, value: expected });
  });

  test("paths: relative, empty and NUL are refused", () => {
    for (const p of ["var/lib", "", "./x", "/a\0b"]) expect(checkAbsolutePath(p).ok).toBe(false);
  });

  test("URLs: only http and https with a host", () => {
    expect(checkHttpUrl("http://cp:8080").ok).toBe(true);
    expect(checkHttpUrl("https://cp/api/").ok).toBe(true);
    for (const u of ["grpc://cp:8080", "http://", "http:///path", "http://cp:8080 ", "cp:8080", "unix:///run/x.sock"]) {
      expect(checkHttpUrl(u).ok).toBe(false);
    }
  });

  test("UUIDs are lower-cased", () => {
    expect(checkUuid("0D6F3A52-9B1C-4E0A-8D7E-2F3C4B5A6978")).toEqual({ ok: true, value: "0d6f3a52-9b1c-4e0a-8d7e-2f3c4b5a6978" });
    expect(checkUuid("0d6f3a529b1c4e0a8d7e2f3c4b5a6978").ok).toBe(false);
  });
});
