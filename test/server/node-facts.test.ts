// Facts the API announces about the node: link speed and state of its interfaces (GetNodeInfo's
// network), and the host a console is announced at (GetConsole's host for a wildcard listen).

import { describe, expect, test } from "bun:test";
import type { NetworkInterfaceInfo } from "node:os";
import { managementHost } from "../../src/registration/management-ip.ts";
import { consoleToWire } from "../../src/server/convert/vm-status.ts";
import { parseLinkSpeed, parseOperstate } from "../../src/telemetry/net-interfaces.ts";

describe("parseLinkSpeed (/sys/class/net/<if>/speed)", () => {
  test.each([
    ["1000\n", 1000],
    ["10000", 10000],
    ["  25000  \n", 25000],
    ["-1\n", undefined], // link down, or a virtual interface
    ["0", undefined],
    ["", undefined],
    ["\n", undefined],
    ["garbage", undefined],
    ["100.5", undefined],
    ["4294967295", 4294967295],
  ])("%j -> %s", (text, mbps) => {
    expect(parseLinkSpeed(text)).toBe(mbps);
  });
});

describe("parseOperstate (/sys/class/net/<if>/operstate)", () => {
  test.each([
    ["up\n", false, true],
    ["up", true, true],
    ["down\n", true, false],
    ["unknown\n", true, true], // loopback, tun: "unknown" but carrying addresses
    ["unknown\n", false, false],
    ["dormant", true, false],
    ["lowerlayerdown", true, false],
    ["", true, false],
    ["UP", true, false],
  ])("%j with addresses %s -> up %s", (text, hasAddresses, up) => {
    expect(parseOperstate(text, hasAddresses)).toBe(up);
  });
});

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: "255.255.255.0",
  family: "IPv4",
  mac: "52:54:00:12:34:56",
  internal,
  cidr: `${address}/24`,
});
const host = { lo: [v4("127.0.0.1", true)], br0: [v4("192.168.1.10")] };

describe("managementHost", () => {
  test.each([
    ["host:port", "10.0.0.5:9090", "10.0.0.5"],
    ["a bare address", "10.0.0.5", "10.0.0.5"],
    ["a name with a port", "node1.example.com:9090", "node1.example.com"],
    ["a bare name", "node1.example.com", "node1.example.com"],
    ["[v6]:port", "[fd00::10]:9090", "fd00::10"],
    ["a bare v6 address", "fd00::10", "fd00::10"],
    ["spaces around", "  10.0.0.5:9090 ", "10.0.0.5"],
    ["empty: detected", "", "192.168.1.10"],
    ["blank: detected", "   ", "192.168.1.10"],
    ["nothing known: detected", undefined, "192.168.1.10"],
  ])("%s: %j -> %s", (_name, endpoint, want) => {
    expect(managementHost(endpoint, host)).toBe(want);
  });

  test("nothing known and no usable address: loopback (never empty)", () => {
    expect(managementHost(undefined, { lo: [v4("127.0.0.1", true)] })).toBe("127.0.0.1");
  });
});

describe("consoleToWire: the host the control plane dials", () => {
  test.each([
    ["0.0.0.0", "192.0.2.10"],
    ["::", "192.0.2.10"],
    ["[::]", "192.0.2.10"],
    ["", "192.0.2.10"],
    // Bound to one address: only that address reaches it, loopback included.
    ["127.0.0.1", "127.0.0.1"],
    ["10.1.2.3", "10.1.2.3"],
  ])("listening on %j -> announced at %s", (listen, announced) => {
    expect(consoleToWire({ type: "vnc", host: listen, port: 5901 }, "192.0.2.10").host).toBe(announced);
  });

  test("the rest of the answer", () => {
    expect(consoleToWire({ type: "spice", host: "0.0.0.0", port: 5930, password: "pw", tlsPort: 5931 }, "h")).toMatchObject({
      type: "spice",
      host: "h",
      port: 5930,
      password: "pw",
      websocketPath: "",
      websocketPort: 0,
      tlsPort: 5931,
    });
    expect(consoleToWire({ type: "vnc", host: "0.0.0.0", port: 5900 }, "h")).toMatchObject({ type: "vnc", password: "" });
  });
});
