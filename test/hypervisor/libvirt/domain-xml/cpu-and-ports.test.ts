// The node's disabled CPU features and the spare PCIe root ports: what they write, and that
// neither becomes part of the spec read back (so an idempotent CreateVM still matches).

import { describe, expect, test } from "bun:test";
import { buildDomainDef, buildDomainXml, HOTPLUG_PCIE_PORTS, parseDomainXml } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { pcieDeviceCount } from "../../../../src/hypervisor/libvirt/domain-xml/configure/pcie-ports.ts";
import { HypervisorError } from "../../../../src/hypervisor/errors.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import type { CpuMode } from "../../../../src/hypervisor/types.ts";
import { minimalSpec, profiles } from "./profiles.ts";

const minimal = profiles["minimal-bios"]!;
const withCpu = (mode: CpuMode, features: string[]) =>
  buildDomainDef({
    ...minimal,
    spec: { ...minimalSpec, cpu: { ...minimalSpec.cpu, mode, ...(mode === "custom" ? { model: "qemu64" } : {}) } },
    cpuDisabledFeatures: features,
  });

describe("hypervisor.cpu_disabled_features", () => {
  test("host-passthrough and host-model CPUs get one disable per feature, sorted and deduplicated", () => {
    for (const mode of ["host-passthrough", "host-model"] as const) {
      expect(withCpu(mode, ["arch-capabilities", "amd-ssbd", "arch-capabilities"]).cpu?.features).toEqual([
        { policy: "disable", name: "amd-ssbd" },
        { policy: "disable", name: "arch-capabilities" },
      ]);
    }
  });

  test("a custom CPU model is left as asked (the setting is about the host CPU)", () => {
    expect(withCpu("custom", ["arch-capabilities"]).cpu?.features).toBeUndefined();
  });

  test("no setting, no <feature> element", () => {
    expect(withCpu("host-passthrough", []).cpu?.features).toBeUndefined();
    expect(buildDomainXml(minimal)).not.toContain("<feature ");
  });

  test("a name that is not a libvirt feature name is refused, not written", () => {
    for (const bad of ["Arch-Caps", "a b", "x'/><evil", ""]) {
      let err: unknown;
      try {
        withCpu("host-passthrough", [bad]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HypervisorError);
      expect((err as HypervisorError).kind).toBe("invalid_argument");
    }
  });

  test("the backend refuses a bad name at start, before it opens anything", async () => {
    let err: unknown;
    try {
      await createLibvirtHypervisor({ uri: "test:///default", storagePath: "/nonexistent", consoleListen: "127.0.0.1", cpuDisabledFeatures: ["ok", "Not OK"] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ kind: "invalid_argument" });
    expect(String((err as Error).message)).toContain("hypervisor.cpu_disabled_features");
  });

  test("the features do not show in the spec read back, from our XML or from libvirt's live XML", () => {
    const plain = parseDomainXml(buildDomainXml(minimal)).spec;
    const xml = buildDomainXml({ ...minimal, cpuDisabledFeatures: ["arch-capabilities"] });
    expect(xml).toContain(`<feature policy="disable" name="arch-capabilities"/>`);
    expect(parseDomainXml(xml).spec).toEqual(plain);
    // A running host-model VM as libvirt shows it: expanded to custom, with the host's features.
    const live = xml.replace(
      /<cpu mode="host-model" check="none">[\s\S]*?<\/cpu>/,
      `<cpu mode='custom' match='exact' check='full'><model fallback='forbid'>EPYC-Rome</model><vendor>AMD</vendor>` +
        `<topology sockets='1' dies='1' cores='1' threads='1'/><feature policy='require' name='x2apic'/>` +
        `<feature policy='disable' name='arch-capabilities'/></cpu>`,
    );
    expect(live).toContain("EPYC-Rome");
    expect(parseDomainXml(live).spec).toEqual(plain);
  });
});

describe("spare PCIe root ports (q35)", () => {
  test("q35: pcie-root plus one port per device that needs one, plus the hot-plug spares", () => {
    const def = buildDomainDef(minimal);
    const ports = def.devices.controllers.filter((c) => c.model === "pcie-root-port");
    // minimal: virtio disk, balloon, rng, virtio-serial (agent channel), xhci (tablet).
    expect(pcieDeviceCount(def.devices)).toBe(5);
    expect(ports).toHaveLength(5 + HOTPLUG_PCIE_PORTS);
    expect(def.devices.controllers.filter((c) => c.model === "pcie-root")).toEqual([{ type: "pci", index: 0, model: "pcie-root" }]);
  });

  test("the number of spares can be chosen; i440fx ('pc') gets none", () => {
    const ports = (machine: string, spare?: number) =>
      buildDomainDef({ ...minimal, machine, ...(spare !== undefined ? { hotplugPciePorts: spare } : {}) }).devices.controllers.filter((c) => c.type === "pci")
        .length;
    expect(ports("q35", 2)).toBe(1 + 5 + 2);
    expect(ports("pc-q35-7.2")).toBe(1 + 5 + HOTPLUG_PCIE_PORTS);
    expect(ports("pc")).toBe(0);
  });

  test("the ports are not part of the spec", () => {
    const spec = parseDomainXml(buildDomainXml(minimal)).spec;
    expect(parseDomainXml(buildDomainXml({ ...minimal, hotplugPciePorts: 0 })).spec).toEqual(spec);
  });
});
