// libvirt's domain XML (ours, or `virsh dumpxml` with its aliases, PCI addresses, ports and
// defaults) read into the typed model. Unknown elements are ignored; absent values stay undefined.

import { scaledBytes } from "./scaled-integer.ts";
import { HypervisorError } from "../../errors.ts";
import type {
  CpuFeatureDef,
  DevicesDef,
  DiskDef,
  DomainDef,
  GraphicsDef,
  HostdevDef,
  HypervDef,
  InterfaceDef,
  IotuneDef,
  NetworkDiskSourceDef,
  VideoDef,
} from "./model.ts";
import { findMetadata, readMetadata } from "./metadata-xml.ts";
import { attr, child, children, intOf, path, textOf, type XmlNode } from "./xml-tree.ts";

/** A libvirt scaled integer (<memory unit='MiB'>) in KiB; libvirt's default unit is KiB. */
function kibOf(node: XmlNode | undefined, where: string): number | undefined {
  const bytes = scaledBytes(node, where, "KiB");
  return bytes === undefined ? undefined : Math.round(bytes / 1024);
}

const aliasOf = (node: XmlNode) => attr(child(node, "alias"), "name");

export function readDisk(d: XmlNode): DiskDef {
  const driver = child(d, "driver");
  const source = child(d, "source");
  const target = child(d, "target");
  const def: DiskDef = {
    type: attr(d, "type") ?? "file",
    device: attr(d, "device") ?? "disk",
    source: attr(source, "file") ?? attr(source, "dev") ?? attr(source, "name"),
    target: { dev: attr(target, "dev") ?? "", bus: attr(target, "bus") },
    bootOrder: intOf(attr(child(d, "boot"), "order"), "disk boot order"),
    readonly: child(d, "readonly") !== undefined,
    alias: aliasOf(d),
  };
  const iotune = readIotune(child(d, "iotune"));
  if (iotune) def.iotune = iotune;
  if (def.type === "network" && source) def.network = readNetworkSource(source, child(d, "auth"));
  if (driver) {
    def.driver = {
      name: attr(driver, "name") ?? "qemu",
      type: attr(driver, "type"),
      cache: attr(driver, "cache"),
      io: attr(driver, "io"),
      discard: attr(driver, "discard"),
    };
  }
  return def;
}

/** A network disk's protocol, servers and credentials (libvirt may put <auth> inside <source> too). */
function readNetworkSource(source: XmlNode, auth: XmlNode | undefined): NetworkDiskSourceDef {
  const def: NetworkDiskSourceDef = {
    protocol: attr(source, "protocol") ?? "",
    hosts: children(source, "host").map((h) => {
      const port = intOf(attr(h, "port"), "disk source host port");
      return port === undefined ? { name: attr(h, "name") ?? "" } : { name: attr(h, "name") ?? "", port };
    }),
  };
  const a = auth ?? child(source, "auth");
  const secret = child(a, "secret");
  const uuid = attr(secret, "uuid");
  if (a && uuid !== undefined) def.auth = { username: attr(a, "username") ?? "", secretType: attr(secret, "type") ?? "ceph", secretUuid: uuid };
  return def;
}

/** The totals of <iotune>; undefined when neither is there (other limits are not ours). */
function readIotune(node: XmlNode | undefined): IotuneDef | undefined {
  if (!node) return undefined;
  const out: IotuneDef = {};
  const bytes = intOf(textOf(child(node, "total_bytes_sec")), "disk iotune total_bytes_sec");
  const iops = intOf(textOf(child(node, "total_iops_sec")), "disk iotune total_iops_sec");
  if (bytes !== undefined) out.totalBytesSec = bytes;
  if (iops !== undefined) out.totalIopsSec = iops;
  return bytes === undefined && iops === undefined ? undefined : out;
}

export function readInterface(i: XmlNode): InterfaceDef {
  const type = attr(i, "type") ?? "";
  const source = child(i, "source");
  const def: InterfaceDef = {
    type,
    mac: attr(child(i, "mac"), "address"),
    source: type === "network" ? attr(source, "network") : (attr(source, "bridge") ?? attr(source, "dev")),
    model: attr(child(i, "model"), "type"),
    bootOrder: intOf(attr(child(i, "boot"), "order"), "interface boot order"),
    alias: aliasOf(i),
    targetDev: attr(child(i, "target"), "dev"),
  };
  const bandwidth = child(i, "bandwidth");
  if (bandwidth) {
    def.bandwidth = {
      inbound: intOf(attr(child(bandwidth, "inbound"), "average"), "interface bandwidth inbound average"),
      outbound: intOf(attr(child(bandwidth, "outbound"), "average"), "interface bandwidth outbound average"),
    };
  }
  return def;
}

function readVideo(v: XmlNode): VideoDef {
  const model = child(v, "model");
  return {
    model: attr(model, "type") ?? "",
    vram: intOf(attr(model, "vram"), "video vram"),
    heads: intOf(attr(model, "heads"), "video heads"),
    primary: attr(model, "primary"),
  };
}

/** Every child of <hyperv> with its attributes; sub-elements (stimer's <direct>) are not kept. */
function readHyperv(node: XmlNode | undefined): HypervDef | undefined {
  if (!node) return undefined;
  return {
    mode: attr(node, "mode"),
    features: node.children.map((f) => ({
      name: f.local,
      state: attr(f, "state"),
      retries: intOf(attr(f, "retries"), `hyperv ${f.local} retries`),
      value: attr(f, "value"),
    })),
  };
}

function readGraphics(g: XmlNode): GraphicsDef {
  const port = intOf(attr(g, "port"), "graphics port");
  const tlsPort = intOf(attr(g, "tlsPort"), "graphics tlsPort");
  return {
    type: attr(g, "type") ?? "",
    port,
    tlsPort,
    autoport: attr(g, "autoport") === "yes",
    listen: attr(g, "listen"),
    passwd: attr(g, "passwd"),
    listens: children(g, "listen").map((l) => ({
      type: attr(l, "type") ?? "",
      address: attr(l, "address"),
      network: attr(l, "network"),
    })),
  };
}

function readHostdev(h: XmlNode): HostdevDef {
  const a = path(h, "source", "address");
  const part = (name: string) => intOf(attr(a, name), `hostdev source address ${name}`);
  const [domain, bus, slot, fn] = [part("domain"), part("bus"), part("slot"), part("function")];
  return {
    mode: attr(h, "mode") ?? "",
    type: attr(h, "type") ?? "",
    managed: attr(h, "managed"),
    address: bus !== undefined && slot !== undefined && fn !== undefined ? { domain: domain ?? 0, bus, slot, function: fn } : undefined,
    romBar: attr(child(h, "rom"), "bar"),
  };
}

function readDevices(d: XmlNode | undefined): DevicesDef {
  const charDev = (c: XmlNode) => ({
    type: attr(c, "type") ?? "",
    targetType: attr(child(c, "target"), "type"),
    targetPort: intOf(attr(child(c, "target"), "port"), "serial target port"),
    sourcePath: attr(child(c, "source"), "path"),
  });
  const balloon = child(d, "memballoon");
  return {
    emulator: textOf(child(d, "emulator")),
    disks: children(d, "disk").map(readDisk),
    controllers: children(d, "controller").map((c) => ({
      type: attr(c, "type") ?? "",
      index: intOf(attr(c, "index"), "controller index"),
      model: attr(c, "model"),
    })),
    interfaces: children(d, "interface").map(readInterface),
    serials: children(d, "serial").map(charDev),
    consoles: children(d, "console").map(charDev),
    channels: children(d, "channel").map((c) => ({
      type: attr(c, "type") ?? "",
      targetType: attr(child(c, "target"), "type") ?? "",
      targetName: attr(child(c, "target"), "name"),
      sourcePath: attr(child(c, "source"), "path"),
    })),
    inputs: children(d, "input").map((i) => ({ type: attr(i, "type") ?? "", bus: attr(i, "bus") })),
    graphics: children(d, "graphics").map(readGraphics),
    videos: children(d, "video").map(readVideo),
    hostdevs: children(d, "hostdev").map(readHostdev),
    memballoon: balloon ? { model: attr(balloon, "model") ?? "" } : undefined,
    rngs: children(d, "rng").map((r) => ({
      model: attr(r, "model") ?? "",
      backendModel: attr(child(r, "backend"), "model") ?? "",
      backend: textOf(child(r, "backend")) ?? "",
    })),
  };
}

/** The <feature> list, or undefined when there is none (absent, not empty). */
function cpuFeatures(cpu: XmlNode): CpuFeatureDef[] | undefined {
  const features = children(cpu, "feature").map((f) => ({ policy: attr(f, "policy") ?? "require", name: attr(f, "name") ?? "" }));
  return features.length > 0 ? features : undefined;
}

export function readDomain(root: XmlNode): DomainDef {
  if (root.local !== "domain") {
    throw new HypervisorError("internal", `domain XML: root element is <${root.name}>, expected <domain>`);
  }
  const name = child(root, "name");
  const uuid = textOf(child(root, "uuid"));
  const memoryKib = kibOf(child(root, "memory"), "domain <memory>");
  if (name === undefined || uuid === undefined || memoryKib === undefined) {
    throw new HypervisorError("internal", "domain XML: <name>, <uuid> and <memory> are required");
  }
  const os = child(root, "os");
  const osType = child(os, "type");
  const loader = child(os, "loader");
  const nvram = child(os, "nvram");
  const features = child(root, "features");
  const cpu = child(root, "cpu");
  const topology = child(cpu, "topology");
  const clock = child(root, "clock");
  const smm = child(features, "smm");
  const metadata = findMetadata(child(root, "metadata"));
  const int = (node: XmlNode | undefined, a: string) => intOf(attr(node, a), `cpu topology ${a}`) ?? 1;
  return {
    type: attr(root, "type") ?? "",
    runtimeId: intOf(attr(root, "id"), "domain id"),
    // libvirt's own text; it forbids leading/trailing whitespace in names, so nothing is trimmed.
    name: name.text,
    uuid,
    description: child(root, "description")?.text,
    metadata: metadata ? readMetadata(metadata) : undefined,
    memoryKib,
    currentMemoryKib: kibOf(child(root, "currentMemory"), "domain <currentMemory>"),
    hugepages: path(root, "memoryBacking", "hugepages") !== undefined,
    vcpus: intOf(textOf(child(root, "vcpu")), "domain <vcpu>") ?? 1,
    cpu: cpu && {
      mode: attr(cpu, "mode") ?? "custom",
      match: attr(cpu, "match"),
      check: attr(cpu, "check"),
      migratable: attr(cpu, "migratable"),
      model: child(cpu, "model") && {
        name: textOf(child(cpu, "model")) ?? "",
        fallback: attr(child(cpu, "model"), "fallback"),
      },
      topology: topology && {
        sockets: int(topology, "sockets"),
        dies: intOf(attr(topology, "dies"), "cpu topology dies"),
        cores: int(topology, "cores"),
        threads: int(topology, "threads"),
      },
      features: cpuFeatures(cpu),
    },
    os: {
      firmware: attr(os, "firmware"),
      arch: attr(osType, "arch"),
      machine: attr(osType, "machine"),
      loader: loader && {
        path: textOf(loader) ?? "",
        readonly: attr(loader, "readonly"),
        type: attr(loader, "type"),
        secure: attr(loader, "secure"),
      },
      nvram: nvram && { path: textOf(nvram) ?? "", template: attr(nvram, "template") },
    },
    features: {
      acpi: child(features, "acpi") !== undefined,
      apic: child(features, "apic") !== undefined,
      hyperv: readHyperv(child(features, "hyperv")),
      smm: smm === undefined ? undefined : attr(smm, "state") !== "off",
    },
    clock: clock && {
      offset: attr(clock, "offset") ?? "utc",
      timers: children(clock, "timer").map((t) => ({
        name: attr(t, "name") ?? "",
        tickpolicy: attr(t, "tickpolicy"),
        present: attr(t, "present"),
      })),
    },
    onPoweroff: textOf(child(root, "on_poweroff")),
    onReboot: textOf(child(root, "on_reboot")),
    onCrash: textOf(child(root, "on_crash")),
    devices: readDevices(child(root, "devices")),
  };
}
