import { describe, expect, test } from "bun:test";
import type { NetworkInterfaceInfo } from "node:os";
import { detectManagementIp, managementEndpoint, type InterfaceMap } from "../../src/registration/management-ip.ts";

function v4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: "255.255.255.0", family: "IPv4", mac: "52:54:00:12:34:56", internal, cidr: `${address}/24` };
}
function v6(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "52:54:00:12:34:56", internal, cidr: `${address}/64`, scopeid: 0 };
}

const hypervisorHost: InterfaceMap = {
  lo: [v4("127.0.0.1", true), v6("::1", true)],
  eno1: [v6("fe80::5054:ff:fe12:3456"), v4("169.254.10.20")],
  br0: [v6("fd00::10"), v4("192.168.1.10")],
  virbr0: [v4("192.168.122.1")],
};

describe("detectManagementIp", () => {
  test("picks the first non-loopback, non-link-local IPv4", () => {
    expect(detectManagementIp(hypervisorHost)).toBe("192.168.1.10");
  });
  test("falls back to 127.0.0.1 when only loopback, link-local and IPv6 exist", () => {
    expect(detectManagementIp({ lo: [v4("127.0.0.1", true)], eth0: [v4("169.254.1.1"), v6("2001:db8::1")] })).toBe("127.0.0.1");
    expect(detectManagementIp({})).toBe("127.0.0.1");
  });
  test("skips a 127.x address even when not flagged internal, and empty interface lists", () => {
    expect(detectManagementIp({ dummy: [v4("127.0.1.1")], none: [], eth1: [v4("10.0.0.7")] })).toBe("10.0.0.7");
  });
});

describe("managementEndpoint", () => {
  test("detected address with the gRPC port", () => {
    expect(managementEndpoint(undefined, hypervisorHost, 9090)).toBe("192.168.1.10:9090");
    expect(managementEndpoint("  ", hypervisorHost, 9090)).toBe("192.168.1.10:9090");
  });
  test("a configured address wins over detection", () => {
    expect(managementEndpoint("10.20.30.40", hypervisorHost, 9090)).toBe("10.20.30.40:9090");
    expect(managementEndpoint("node1.example.com", hypervisorHost, 9443)).toBe("node1.example.com:9443");
  });
  test("a configured address with a port is kept; IPv6 is bracketed", () => {
    expect(managementEndpoint("10.20.30.40:7000", hypervisorHost, 9090)).toBe("10.20.30.40:7000");
    expect(managementEndpoint("fd00::10", hypervisorHost, 9090)).toBe("[fd00::10]:9090");
    expect(managementEndpoint("[fd00::10]:7000", hypervisorHost, 9090)).toBe("[fd00::10]:7000");
  });
});
