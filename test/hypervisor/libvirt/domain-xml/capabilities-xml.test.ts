import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCapabilitiesXml, parseDomainCapabilitiesXml, type HostCapabilities } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");

describe("parseCapabilitiesXml", () => {
  test("a KVM host (virsh capabilities, libvirt 9.0, QEMU 7.2)", () => {
    const machines = ["pc-i440fx-7.2", "pc", "pc-q35-7.2", "q35"];
    const expected: HostCapabilities = {
      arch: "x86_64",
      cpuModel: "Skylake-Server-IBRS",
      guestArchs: [
        {
          arch: "i686",
          osType: "hvm",
          emulator: "/usr/bin/qemu-system-i386",
          machines: [...machines, "none"],
          domainTypes: ["qemu", "kvm"],
        },
        {
          arch: "x86_64",
          osType: "hvm",
          emulator: "/usr/bin/qemu-system-x86_64",
          machines: [...machines, "pc-q35-7.1", "pc-i440fx-7.1", "none", "isapc", "microvm"],
          domainTypes: ["qemu", "kvm"],
        },
      ],
    };
    expect(parseCapabilitiesXml(fixture("virsh-capabilities-kvm.xml"))).toStrictEqual(expected);
  });

  test("libvirt's test driver (captured from test:///default)", () => {
    expect(parseCapabilitiesXml(fixture("testdriver-capabilities.xml"))).toStrictEqual({
      arch: "i686",
      guestArchs: [
        { arch: "i686", osType: "hvm", emulator: "/usr/bin/test-hv", machines: [], domainTypes: ["test"] },
        { arch: "i686", osType: "xen", emulator: "/usr/bin/test-hv", machines: [], domainTypes: ["test"] },
      ],
    });
  });

  test("machines listed per domain type (older libvirt) are merged without duplicates", () => {
    const xml = `<capabilities><host><cpu><arch>aarch64</arch></cpu></host><guest><os_type>hvm</os_type>
      <arch name='aarch64'><machine>virt</machine><domain type='qemu'/><domain type='kvm'>
      <emulator>/usr/bin/qemu-kvm</emulator><machine>virt</machine><machine>virt-7.2</machine></domain></arch></guest></capabilities>`;
    expect(parseCapabilitiesXml(xml).guestArchs).toStrictEqual([
      { arch: "aarch64", osType: "hvm", machines: ["virt", "virt-7.2"], domainTypes: ["qemu", "kvm"] },
    ]);
  });

  test("a document without a host arch is an error", () => {
    expect(() => parseCapabilitiesXml("<capabilities><host/></capabilities>")).toThrow("<host><cpu><arch>");
  });
});

describe("parseDomainCapabilitiesXml", () => {
  test("virsh domcapabilities on a KVM host with OVMF", () => {
    expect(parseDomainCapabilitiesXml(fixture("virsh-domcapabilities-kvm.xml"))).toStrictEqual({
      maxVcpus: 288,
      uefiLoaders: ["/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_CODE_4M.fd"],
    });
  });

  test("a nested KVM host without KVM's Hyper-V emulation (libvirt 9.0, QEMU 7.2, Firecracker guest kernel)", () => {
    expect(parseDomainCapabilitiesXml(fixture("virsh-domcapabilities-kvm-nested.xml"))).toStrictEqual({
      maxVcpus: 288,
      uefiLoaders: [],
      hypervFeatures: ["spinlocks", "vendor_id"],
    });
  });

  test("Hyper-V: supported='no' offers none; libvirt that does not say leaves the list absent", () => {
    const caps = (features: string) => parseDomainCapabilitiesXml(`<domainCapabilities><features>${features}</features></domainCapabilities>`);
    expect(caps(`<hyperv supported='no'/>`).hypervFeatures).toStrictEqual([]);
    expect(caps(`<hyperv supported='yes'><enum name='features'><value>relaxed</value><value>vapic</value></enum></hyperv>`).hypervFeatures).toStrictEqual([
      "relaxed",
      "vapic",
    ]);
    expect(caps("<sev supported='no'/>").hypervFeatures).toBeUndefined();
  });

  test("no loader support and no vcpu element: empty list, maxVcpus absent", () => {
    expect(parseDomainCapabilitiesXml(`<domainCapabilities><os supported='yes'><loader supported='no'/></os></domainCapabilities>`)).toStrictEqual({
      uefiLoaders: [],
    });
  });

  test("another document is an error", () => {
    expect(() => parseDomainCapabilitiesXml("<capabilities/>")).toThrow("root element is <capabilities>");
  });
});
