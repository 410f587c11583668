// Unknown keys and variables are warnings (never errors), each naming what was ignored and,
// when one is close, the key that was probably meant.

import { describe, expect, test } from "bun:test";
import { nearest } from "../../src/common/suggest.ts";
import { load } from "./helpers.ts";

describe("unknown keys in the file", () => {
  test.each([
    [
      "server:\n  listen_adress: 0.0.0.0:1\n",
      'config: /etc/limiquantix/node.yaml:2:3: unknown key "server.listen_adress" ignored; did you mean "server.listen_address"?',
    ],
    ["controlplane:\n  address: http://x:1\n", 'config: /etc/limiquantix/node.yaml:1:1: unknown key "controlplane" ignored; did you mean "control_plane"?'],
    ["server:\n  backend: mock\n", 'config: /etc/limiquantix/node.yaml:2:3: unknown key "server.backend" ignored; did you mean "hypervisor.backend"?'],
    ["control_plane_uri: http://x:1\n", 'config: /etc/limiquantix/node.yaml:1:1: unknown key "control_plane_uri" ignored; did you mean "control_plane_url"?'],
    ["log:\n  colour: true\n", 'config: /etc/limiquantix/node.yaml:2:3: unknown key "log.colour" ignored'],
    ["flux_capacitor: 88\n", 'config: /etc/limiquantix/node.yaml:1:1: unknown key "flux_capacitor" ignored'],
  ])("%j", (yaml, warning) => {
    const { warnings } = load({ yaml });
    expect(warnings).toEqual([warning]);
  });

  test("an unknown key does not stop the known ones around it", () => {
    const { config, warnings } = load({ yaml: "server:\n  metrics_port: 9200\n  colour: red\n  listen_address: 0.0.0.0:9300\n" });
    expect(warnings).toHaveLength(1);
    expect(config.server).toMatchObject({ metricsPort: 9200, listenAddress: "0.0.0.0:9300" });
  });

  test("an unknown section is one warning, not one per key inside it", () => {
    expect(load({ yaml: "extras:\n  a: 1\n  b: 2\n" }).warnings).toHaveLength(1);
  });

  test("label names are free-form, not unknown keys", () => {
    expect(load({ yaml: "node:\n  labels:\n    anything_goes: yes\n" }).warnings).toEqual([]);
  });
});

describe("unknown LIMIQUANTIX_ variables", () => {
  test("are warnings with the nearest known name", () => {
    const { warnings } = load({ env: { LIMIQUANTIX_LOG_LEVL: "debug", LIMIQUANTIX_WHATEVER_ELSE: "1", PATH: "/bin" } });
    expect(warnings).toEqual([
      "config: unknown environment variable LIMIQUANTIX_LOG_LEVL ignored; did you mean LIMIQUANTIX_LOG_LEVEL?",
      "config: unknown environment variable LIMIQUANTIX_WHATEVER_ELSE ignored",
    ]);
  });

  test("the config file variable is known", () => {
    expect(load({ yaml: "", env: { LIMIQUANTIX_CONFIG: "/etc/limiquantix/node.yaml" } }).warnings).toEqual([]);
  });
});

describe("nearest", () => {
  const known = ["server.listen_address", "server.metrics_port", "hypervisor.backend", "log.level"];
  test.each([
    ["server.listen_adress", "server.listen_address"],
    ["SERVER.METRICS_PORT", "server.metrics_port"],
    ["server.backend", "hypervisor.backend"],
    ["log.lvl", "log.level"],
    ["zzz", undefined],
    ["server.port", undefined],
  ])("%s -> %s", (unknown, expected) => {
    expect(nearest(unknown, known, ".")).toBe(expected);
  });

  test("without a separator there is no same-leaf guess", () => {
    expect(nearest("server.backend", known)).toBeUndefined();
  });
});

describe("YAML features", () => {
  test("an unresolved tag is a warning with its location", () => {
    const { warnings, config } = load({ yaml: "log:\n  level: !custom debug\n" });
    expect(warnings).toEqual(["config: /etc/limiquantix/node.yaml:2:10: YAML warning: Unresolved tag: !custom"]);
    expect(config.log.level).toBe("debug");
  });

  test("anchors and aliases resolve", () => {
    const { config } = load({ yaml: "tls:\n  cert_path: &cert /etc/c.pem\ncontrol_plane:\n  ca_file: *cert\n" });
    expect(config.controlPlane.caFile).toBe("/etc/c.pem");
  });
});
