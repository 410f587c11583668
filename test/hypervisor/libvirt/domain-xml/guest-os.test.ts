// guest_os profiles: the table against the control plane's contract (7.4), and what KVM, TCG,
// the console type and the host's offered Hyper-V enlightenments change.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildDomainDef,
  buildDomainXml,
  GUEST_OS_PROFILES,
  parseDomainCapabilitiesXml,
  parseDomainXml,
} from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { configureGuestOs, HYPERV_FEATURES } from "../../../../src/hypervisor/libvirt/domain-xml/configure/guest-os.ts";
import type { ClockDef, HypervDef, VideoDef } from "../../../../src/hypervisor/libvirt/domain-xml/model.ts";
import { profiles, windowsSpec } from "./profiles.ts";

// The contract's table, written out again: hpet, kvmclock, hypervclock, video, vram, Hyper-V.
const CONTRACT: [string, boolean, boolean, boolean, string, number, boolean][] = [
  ["rhel", false, true, false, "vga", 16384, false],
  ["fedora", false, true, false, "vga", 16384, false],
  ["debian", true, true, false, "virtio", 32768, false],
  ["suse", false, true, false, "virtio", 32768, false],
  ["arch", true, true, false, "virtio", 32768, false],
  ["windows_server", true, false, true, "qxl", 65536, true],
  ["windows_desktop", true, false, true, "qxl", 65536, true],
  ["windows_legacy", true, false, false, "vga", 16384, false],
  ["freebsd", true, false, false, "vga", 16384, false],
  ["generic_linux", false, true, false, "vga", 16384, false],
  ["", false, true, false, "vga", 16384, false],
  ["ubuntu", false, true, false, "vga", 16384, false],
  ["__proto__", false, true, false, "vga", 16384, false],
];

const ALL_ON: HypervDef = {
  features: [
    { name: "relaxed", state: "on" },
    { name: "vapic", state: "on" },
    { name: "spinlocks", state: "on", retries: 8191 },
    { name: "vpindex", state: "on" },
    { name: "runtime", state: "on" },
    { name: "synic", state: "on" },
    { name: "stimer", state: "on" },
    { name: "reset", state: "on" },
    { name: "frequencies", state: "on" },
    { name: "tlbflush", state: "on" },
    { name: "ipi", state: "on" },
  ],
};

function expected(row: (typeof CONTRACT)[number], kvm: boolean) {
  const [, hpet, kvmclock, hypervclock, video, vram, hyperv] = row;
  const clock: ClockDef = {
    offset: "utc",
    timers: [
      { name: "rtc", tickpolicy: "catchup" },
      { name: "pit", tickpolicy: "delay" },
      { name: "hpet", present: hpet ? "yes" : "no" },
      ...(kvm && kvmclock ? [{ name: "kvmclock", present: "yes" }] : []),
      ...(kvm && hypervclock ? [{ name: "hypervclock", present: "yes" }] : []),
    ],
  };
  const videos: VideoDef[] = [{ model: video, vram, heads: 1, primary: "yes" }];
  return kvm && hyperv ? { clock, videos, hyperv: ALL_ON } : { clock, videos };
}

describe("guest_os profiles", () => {
  test("the table has exactly the contract's profiles", () => {
    expect(Object.keys(GUEST_OS_PROFILES).sort()).toStrictEqual(
      CONTRACT.slice(0, 10)
        .map((r) => r[0])
        .sort(),
    );
  });

  for (const row of CONTRACT) {
    test(`${JSON.stringify(row[0])} on KVM and on TCG`, () => {
      expect(configureGuestOs(row[0], "kvm", "vnc")).toStrictEqual(expected(row, true));
      // TCG: no KVM paravirtual clocks, no Hyper-V enlightenments; hpet and video as on KVM.
      expect(configureGuestOs(row[0], "qemu", "vnc")).toStrictEqual(expected(row, false));
    });
  }

  test("SPICE turns a VGA profile's display into QXL; virtio and qxl stay; no console, no video", () => {
    const video = (guestOs: string, console: "vnc" | "spice" | "none") => configureGuestOs(guestOs, "kvm", console).videos;
    expect(video("rhel", "spice")).toStrictEqual([{ model: "qxl", vram: 65536, heads: 1, primary: "yes" }]);
    expect(video("debian", "spice")).toStrictEqual([{ model: "virtio", vram: 32768, heads: 1, primary: "yes" }]);
    expect(video("windows_server", "spice")).toStrictEqual([{ model: "qxl", vram: 65536, heads: 1, primary: "yes" }]);
    expect(video("debian", "none")).toStrictEqual([]);
  });

  test("only the enlightenments the host offers are written; hypervclock needs KVM's Hyper-V emulation", () => {
    // Captured on a nested host whose kernel has no KVM Hyper-V emulation: QEMU exits with
    // "kernel doesn't allow setting HyperV VP_INDEX" for the full set, runs with spinlocks alone.
    const nested = parseDomainCapabilitiesXml(readFileSync(join(import.meta.dir, "fixtures", "virsh-domcapabilities-kvm-nested.xml"), "utf8")).hypervFeatures;
    expect(nested).toStrictEqual(["spinlocks", "vendor_id"]);
    const limited = configureGuestOs("windows_server", "kvm", "vnc", nested);
    expect(limited.hyperv).toStrictEqual({ features: [{ name: "spinlocks", state: "on", retries: 8191 }] });
    expect(limited.clock.timers.map((t) => t.name)).toStrictEqual(["rtc", "pit", "hpet"]);

    const some = configureGuestOs("windows_desktop", "kvm", "vnc", ["relaxed", "vapic", "spinlocks", "vendor_id", "evmcs"]);
    expect(some.hyperv?.features.map((f) => f.name)).toStrictEqual(["relaxed", "vapic", "spinlocks"]);
    expect(some.clock.timers.map((t) => t.name)).toContain("hypervclock");

    expect(configureGuestOs("windows_server", "kvm", "vnc", []).hyperv).toBeUndefined();
    expect(configureGuestOs("windows_server", "kvm", "vnc", HYPERV_FEATURES)).toStrictEqual(configureGuestOs("windows_server", "kvm", "vnc"));
  });

  test("the domain: Windows on TCG gets no <hyperv>, and the profile name reads back either way", () => {
    const input = profiles["windows-server-kvm"]!;
    const tcg = buildDomainDef({ ...input, domainType: "qemu" });
    expect(tcg.features).toStrictEqual({ acpi: true, apic: true });
    expect(tcg.clock?.timers.map((t) => t.name)).toStrictEqual(["rtc", "pit", "hpet"]);
    expect(parseDomainXml(buildDomainXml({ ...input, domainType: "qemu" })).spec.guestOs).toBe("windows_server");
    const limited = buildDomainXml({ ...input, hypervFeatures: ["spinlocks", "vendor_id"] });
    expect(limited).toContain(`<spinlocks state="on" retries="8191"/>`);
    expect(limited).not.toContain("<relaxed");
    expect(parseDomainXml(limited).spec).toStrictEqual(parseDomainXml(buildDomainXml(input)).spec);
  });

  test("an unknown profile name is kept as asked and built as generic_linux", () => {
    const input = profiles["windows-server-kvm"]!;
    const spec = { ...windowsSpec, guestOs: "plan9_4th" };
    const def = buildDomainDef({ ...input, spec });
    expect(def.features.hyperv).toBeUndefined();
    expect(def.devices.videos).toStrictEqual([{ model: "vga", vram: 16384, heads: 1, primary: "yes" }]);
    expect(parseDomainXml(buildDomainXml({ ...input, spec })).spec.guestOs).toBe("plan9_4th");
  });
});
