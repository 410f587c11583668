// CPU mode auto (the host's CPU under KVM, QEMU's maximum CPU under TCG), maximum, and what a
// TCG domain refuses; every mode reads back as asked, from our XML and from libvirt's live XML.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HypervisorError } from "../../../../src/hypervisor/errors.ts";
import { buildDomainDef, buildDomainXml, effectiveCpuMode, parseDomainXml } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import type { CpuDef } from "../../../../src/hypervisor/libvirt/domain-xml/model.ts";
import type { CpuMode } from "../../../../src/hypervisor/types.ts";
import { expectedSpec, minimalSpec, profiles, tcgSpec } from "./profiles.ts";

const minimal = profiles["minimal-bios"]!;
const topology = { sockets: 1, cores: 1, threads: 1 };
const build = (mode: CpuMode, domainType: "kvm" | "qemu", features: string[] = ["arch-capabilities"]) =>
  buildDomainDef({ ...minimal, domainType, spec: { ...minimalSpec, cpu: { ...minimalSpec.cpu, mode } }, cpuDisabledFeatures: features });
const disabled = [{ policy: "disable", name: "arch-capabilities" }];

describe("CPU modes", () => {
  const cases: [CpuMode, "kvm" | "qemu", CpuDef][] = [
    ["auto", "kvm", { mode: "host-passthrough", check: "none", migratable: "on", topology, features: disabled }],
    ["auto", "qemu", { mode: "maximum", check: "none", topology }],
    ["maximum", "kvm", { mode: "maximum", check: "none", topology, features: disabled }],
    ["maximum", "qemu", { mode: "maximum", check: "none", topology }],
    ["host-passthrough", "kvm", { mode: "host-passthrough", check: "none", migratable: "on", topology, features: disabled }],
    ["host-model", "kvm", { mode: "host-model", check: "none", topology, features: disabled }],
    // libvirt supports host-model under TCG (a model QEMU can emulate); KVM's feature list is not applied.
    ["host-model", "qemu", { mode: "host-model", check: "none", topology }],
  ];
  for (const [mode, domainType, cpu] of cases) {
    test(`${mode} on ${domainType}`, () => {
      expect(build(mode, domainType).cpu).toEqual(cpu);
      expect(effectiveCpuMode(mode, domainType)).toBe(cpu.mode as Exclude<CpuMode, "auto">);
    });
  }

  test("host-passthrough on TCG is refused before libvirt refuses it, naming the field", () => {
    let err: unknown;
    try {
      build("host-passthrough", "qemu");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as HypervisorError).kind).toBe("unsupported");
    expect((err as HypervisorError).field).toBe("spec.cpu.mode");
    expect((err as HypervisorError).message).toContain("use auto or maximum");
  });

  test("every mode reads back as asked, on KVM and on TCG", () => {
    for (const [mode, domainType] of [
      ["auto", "kvm"],
      ["auto", "qemu"],
      ["maximum", "kvm"],
      ["maximum", "qemu"],
      ["host-passthrough", "kvm"],
      ["host-model", "kvm"],
      ["host-model", "qemu"],
    ] as const) {
      const spec = { ...minimalSpec, cpu: { ...minimalSpec.cpu, mode } };
      const input = { ...minimal, domainType, spec };
      expect(parseDomainXml(buildDomainXml(input)).spec).toStrictEqual(expectedSpec(input, ["vda"]));
    }
  });

  test("auto is remembered in the metadata, maximum and host-passthrough need not be", () => {
    expect(buildDomainDef({ ...minimal, spec: { ...minimalSpec, cpu: { ...minimalSpec.cpu, mode: "auto" } } }).metadata?.cpuMode).toBe("auto");
    expect(buildDomainDef({ ...minimal, spec: { ...minimalSpec, cpu: { ...minimalSpec.cpu, mode: "maximum" } } }).metadata?.cpuMode).toBeUndefined();
    // A hand-edited domain whose CPU is now a custom model is that model, whatever the metadata says.
    const xml = buildDomainXml({ ...minimal, spec: { ...minimalSpec, cpu: { ...minimalSpec.cpu, mode: "auto" } } }).replace(
      /<cpu mode="host-passthrough"[\s\S]*?<\/cpu>/,
      `<cpu mode="custom" match="exact"><model>EPYC</model><topology sockets="1" cores="1" threads="1"/></cpu>`,
    );
    expect(parseDomainXml(xml).spec.cpu).toStrictEqual({ sockets: 1, coresPerSocket: 1, threadsPerCore: 1, mode: "custom", model: "EPYC" });
  });

  test("a running TCG guest as libvirt 9.0 shows it (virsh dumpxml, QEMU -accel tcg -cpu max) reads back as auto", () => {
    const input = profiles["generic-linux-tcg"]!;
    const parsed = parseDomainXml(readFileSync(join(import.meta.dir, "fixtures", "virsh-dumpxml-tcg-maximum-running.xml"), "utf8"));
    expect(parsed.domainType).toBe("qemu");
    expect(parsed.spec).toStrictEqual(expectedSpec({ ...input, spec: tcgSpec }, ["sda"]));
    expect(parsed.console).toStrictEqual({ type: "vnc", autoport: true, port: 5900, listen: "127.0.0.1" });
  });
});
