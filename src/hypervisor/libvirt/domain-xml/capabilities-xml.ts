// virConnectGetCapabilities and virConnectGetDomainCapabilities documents.

import { HypervisorError } from "../../errors.ts";
import { attr, child, children, intOf, parseXml, path, textOf, type XmlNode } from "./xml-tree.ts";

export interface GuestArch {
  arch: string;
  /** hvm, xen, exe, ... */
  osType: string;
  emulator?: string;
  machines: string[];
  domainTypes: string[];
}

export interface HostCapabilities {
  arch: string;
  cpuModel?: string;
  guestArchs: GuestArch[];
}

const unique = (items: string[]) => [...new Set(items)];
const machinesOf = (node: XmlNode | undefined) =>
  children(node, "machine").flatMap((m) => {
    const name = textOf(m);
    return name ? [name] : [];
  });

export function parseCapabilitiesXml(xml: string): HostCapabilities {
  const root = parseXml(xml, "capabilities XML");
  const arch = textOf(path(root, "host", "cpu", "arch"));
  if (root.local !== "capabilities" || arch === undefined) {
    throw new HypervisorError("internal", "capabilities XML: expected <capabilities> with <host><cpu><arch>");
  }
  const out: HostCapabilities = {
    arch,
    guestArchs: children(root, "guest").flatMap((guest) => {
      const archNode = child(guest, "arch");
      const name = attr(archNode, "name");
      if (name === undefined) return [];
      const domains = children(archNode, "domain");
      const entry: GuestArch = {
        arch: name,
        osType: textOf(child(guest, "os_type")) ?? "",
        // Older libvirt lists machines per <domain type='kvm'> as well as per arch.
        machines: unique([...machinesOf(archNode), ...domains.flatMap(machinesOf)]),
        domainTypes: unique(domains.flatMap((d) => attr(d, "type") ?? [])),
      };
      const emulator = textOf(child(archNode, "emulator"));
      if (emulator) entry.emulator = emulator;
      return [entry];
    }),
  };
  const model = textOf(path(root, "host", "cpu", "model"));
  if (model) out.cpuModel = model;
  return out;
}

export interface DomainCapabilities {
  maxVcpus?: number;
  uefiLoaders: string[];
  /**
   * The Hyper-V enlightenments (<hyperv> children) this host's KVM offers; undefined when libvirt
   * does not say (before 8.x). A kernel built without KVM's Hyper-V emulation (CONFIG_KVM_HYPERV,
   * some nested and microVM hosts) offers only spinlocks and vendor_id, which are CPUID values.
   */
  hypervFeatures?: string[];
}

export function parseDomainCapabilitiesXml(xml: string): DomainCapabilities {
  const root = parseXml(xml, "domain capabilities XML");
  if (root.local !== "domainCapabilities") {
    throw new HypervisorError("internal", `domain capabilities XML: root element is <${root.name}>`);
  }
  const loader = path(root, "os", "loader");
  const out: DomainCapabilities = {
    uefiLoaders: attr(loader, "supported") === "no" ? [] : children(loader, "value").flatMap((v) => textOf(v) || []),
  };
  const max = intOf(attr(child(root, "vcpu"), "max"), "domain capabilities <vcpu max>");
  if (max !== undefined) out.maxVcpus = max;
  const hyperv = path(root, "features", "hyperv");
  if (hyperv) {
    const names = children(hyperv, "enum").find((e) => attr(e, "name") === "features");
    out.hypervFeatures = attr(hyperv, "supported") === "no" ? [] : children(names, "value").flatMap((v) => textOf(v) || []);
  }
  return out;
}
