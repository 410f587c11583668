// The two layouts of the seeds (the README's nested node.yaml and the build guide's flat one),
// mixing them, and the example files shipped in deploy/ and copied from the seeds.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KEYS } from "../../src/config/index.ts";
import { load, loadError } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const fixture = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");

describe("the build guide's flat example", () => {
  test("loads with no warnings and means what it says", () => {
    const { config, warnings, source } = load({ yaml: fixture("build-guide-flat.yaml") });
    expect(warnings).toEqual([]);
    expect(source).toBe("/etc/limiquantix/node.yaml");
    expect(config.server.listenAddress).toBe("0.0.0.0:9090");
    expect(config.controlPlane).toEqual({
      address: "http://192.168.1.100:8080",
      registrationEnabled: true,
      heartbeatIntervalSecs: 30,
    });
    expect(config.hypervisor).toMatchObject({ backend: "libvirt", libvirtUri: "qemu:///system", storagePath: "/var/lib/libvirt/images" });
    expect(config.storage).toEqual({
      vmImages: "/var/lib/libvirt/images",
      cloudImages: "/var/lib/libvirt/images/cloud",
      isoImages: "/var/lib/libvirt/images/iso",
    });
    expect(config.agent.socketDir).toBe("/var/run/limiquantix/vms");
  });

  test("gives the same config as its nested translation", () => {
    const nested = `
server:
  listen_address: "0.0.0.0:9090"
control_plane:
  address: "http://192.168.1.100:8080"
  registration_enabled: true
hypervisor:
  backend: libvirt
  libvirt_uri: "qemu:///system"
  storage_path: "/var/lib/libvirt/images"
storage:
  cloud_images: "/var/lib/libvirt/images/cloud"
  iso_images: "/var/lib/libvirt/images/iso"
agent:
  socket_dir: "/var/run/limiquantix/vms"
`;
    const fromFlat = load({ yaml: fixture("build-guide-flat.yaml") });
    const fromNested = load({ yaml: nested });
    expect(fromNested.warnings).toEqual([]);
    expect(fromNested.config).toEqual(fromFlat.config);
  });
});

test("the README's nested example loads with no warnings", () => {
  const { config, warnings } = load({ yaml: fixture("readme-nested.yaml") });
  expect(warnings).toEqual([]);
  expect(config.node).toEqual({ labels: { rack: "A1", zone: "us-east-1a" }, stateDir: "/var/lib/limiquantix" });
  expect(config.server).toMatchObject({ listenAddress: "0.0.0.0:9090", metricsPort: 9091 });
  expect(config.hypervisor).toMatchObject({ backend: "libvirt", libvirtUri: "qemu:///system", storagePath: "/var/lib/limiquantix/vms" });
  expect(config.controlPlane).toEqual({ address: "http://localhost:8080", registrationEnabled: true, heartbeatIntervalSecs: 30 });
  expect(config.tls).toEqual({ enabled: false, certPath: "/etc/limiquantix/certs/node.crt", keyPath: "/etc/limiquantix/certs/node.key" });
});

describe("a flat key and its nested twin", () => {
  const twins: [string, string, string, string][] = [
    ['listen_address: "0.0.0.0:9090"', 'server:\n  listen_address: "127.0.0.1:9090"', "listen_address", "server.listen_address"],
    ['control_plane_url: "http://a:8080"', 'control_plane:\n  address: "http://b:8080"', "control_plane_url", "control_plane.address"],
    ["auto_register: false", "control_plane:\n  registration_enabled: true\n  address: http://a:1", "auto_register", "control_plane.registration_enabled"],
    ["hypervisor:\n  type: mock\n  backend: libvirt", "", "hypervisor.type", "hypervisor.backend"],
    ['hypervisor:\n  uri: "qemu:///system"\n  libvirt_uri: "qemu:///session"', "", "hypervisor.uri", "hypervisor.libvirt_uri"],
    ["storage:\n  vm_images: /a", "hypervisor:\n  storage_path: /b", "storage.vm_images", "hypervisor.storage_path"],
  ];

  test.each(twins.map(([first, second, a, b]) => ({ first, second, a, b })))(
    "$a and $b with different values is an error naming both",
    ({ first, second, a, b }) => {
      const err = loadError({ yaml: `${first}\n${second}\n` });
      expect(err.message).toContain(`config: ${a} (`);
      expect(err.message).toContain(`and ${b} (`);
      expect(err.message).toContain("are the same setting with different values; keep one");
      expect(err.key).toBe(b);
    },
  );

  test("with the same value (after normalizing) is fine", () => {
    const { config, warnings } = load({
      yaml: 'listen_address: "0.0.0.0:9090"\nserver:\n  listen_address: "0.0.0.0:9090"\nstorage:\n  vm_images: /a/\nhypervisor:\n  storage_path: /a\n  type: MOCK\n  backend: mock\n',
    });
    expect(warnings).toEqual([]);
    expect(config.hypervisor.storagePath).toBe("/a");
    expect(config.hypervisor.backend).toBe("mock");
  });

  test("in the environment follows the same rule", () => {
    const err = loadError({ env: { LIMIQUANTIX_LISTEN_ADDRESS: "0.0.0.0:1", LIMIQUANTIX_SERVER_LISTEN_ADDRESS: "0.0.0.0:2" } });
    expect(err.message).toContain("LIMIQUANTIX_SERVER_LISTEN_ADDRESS");
    expect(err.message).toContain("LIMIQUANTIX_LISTEN_ADDRESS");
  });

  test("across layers is not a conflict: the higher layer wins", () => {
    const { config } = load({ yaml: 'listen_address: "0.0.0.0:1"\n', env: { LIMIQUANTIX_SERVER_LISTEN_ADDRESS: "0.0.0.0:2" } });
    expect(config.server.listenAddress).toBe("0.0.0.0:2");
  });
});

describe("deploy/node.yaml", () => {
  const text = readFileSync(join(ROOT, "deploy", "node.yaml"), "utf8");

  test("loads with zero warnings and gives exactly the defaults", () => {
    const fromExample = load({ yaml: text });
    expect(fromExample.warnings).toEqual([]);
    expect(fromExample.config).toEqual(load({}).config);
  });

  test("names every key, set or commented out, and still loads when every commented key is switched on", () => {
    // "# key: value" lines are the optional settings; prose comments never look like that.
    const uncommented = text.replace(/^([ \t]*)# ?([ \t]*[a-z][a-z0-9_]*:(?:[ \t].*)?)$/gm, "$1$2").replace(/^[ \t]*labels: \{\}\n/m, "");
    const { config, warnings, origins } = load({ yaml: uncommented });
    // No unknown keys; only the two rules that the examples' TLS-off / http:// defaults trip.
    expect(warnings).toEqual([
      "config: tls.client_ca_path is set but tls.enabled is false, so client certificates are not checked",
      "config: control_plane.ca_file is set but the control plane address is http://, so it is not used",
    ]);
    const everyKey = KEYS.map((k) => k.key).sort();
    expect(Object.keys(origins).sort()).toEqual(everyKey);
    expect(config.node.labels).toEqual({ rack: "A1", zone: "us-east-1a" });
    expect(config.tls.clientCaPath).toBe("/etc/limiquantix/certs/clients-ca.crt");
    expect(config.node.id).toBe("0d6f3a52-9b1c-4e0a-8d7e-2f3c4b5a6978");
  });
});
