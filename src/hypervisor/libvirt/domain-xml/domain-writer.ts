// The one serializer from the typed model to libvirt's domain XML. Element order follows what
// libvirt itself prints, so our XML and `virsh dumpxml` read alike.

import type { DevicesDef, DiskDef, DomainDef, GraphicsDef, HostdevDef, HypervDef, InterfaceDef, VideoDef } from "./model.ts";
import { writeMetadata } from "./metadata-xml.ts";
import { pciAddressAttrs } from "./pci-address.ts";
import { el, type XmlElement } from "./xml-tree.ts";

const alias = (name: string | undefined) => name !== undefined && el("alias", { name });

function writeDiskSource(type: string, source: string, network: DiskDef["network"]): XmlElement {
  if (type === "network" && network) {
    return el(
      "source",
      { protocol: network.protocol, name: source },
      network.hosts.map((h) => el("host", { name: h.name, port: h.port })),
    );
  }
  return el("source", type === "block" ? { dev: source } : { file: source });
}

export function writeDisk(d: DiskDef): XmlElement {
  return el("disk", { type: d.type, device: d.device }, [
    d.driver && el("driver", { ...d.driver }),
    d.network?.auth && el("auth", { username: d.network.auth.username }, [el("secret", { type: d.network.auth.secretType, uuid: d.network.auth.secretUuid })]),
    d.source !== undefined && writeDiskSource(d.type, d.source, d.network),
    el("target", { dev: d.target.dev, bus: d.target.bus }),
    d.iotune &&
      el("iotune", {}, [
        d.iotune.totalBytesSec !== undefined && el("total_bytes_sec", {}, d.iotune.totalBytesSec),
        d.iotune.totalIopsSec !== undefined && el("total_iops_sec", {}, d.iotune.totalIopsSec),
      ]),
    d.bootOrder !== undefined && el("boot", { order: d.bootOrder }),
    d.readonly && el("readonly"),
    alias(d.alias),
  ]);
}

export function writeInterface(i: InterfaceDef): XmlElement {
  const sourceAttr = i.type === "network" ? "network" : "bridge";
  return el("interface", { type: i.type }, [
    i.mac !== undefined && el("mac", { address: i.mac }),
    i.source !== undefined && el("source", { [sourceAttr]: i.source }),
    i.targetDev !== undefined && el("target", { dev: i.targetDev }),
    i.model !== undefined && el("model", { type: i.model }),
    i.bandwidth &&
      el("bandwidth", {}, [
        i.bandwidth.inbound !== undefined && el("inbound", { average: i.bandwidth.inbound }),
        i.bandwidth.outbound !== undefined && el("outbound", { average: i.bandwidth.outbound }),
      ]),
    i.bootOrder !== undefined && el("boot", { order: i.bootOrder }),
    alias(i.alias),
  ]);
}

function writeVideo(v: VideoDef): XmlElement {
  return el("video", {}, [el("model", { type: v.model, vram: v.vram, heads: v.heads, primary: v.primary })]);
}

function writeHyperv(h: HypervDef): XmlElement {
  return el(
    "hyperv",
    { mode: h.mode },
    h.features.map((f) => el(f.name, { state: f.state, retries: f.retries, value: f.value })),
  );
}

function writeGraphics(g: GraphicsDef): XmlElement {
  return el(
    "graphics",
    {
      type: g.type,
      port: g.port,
      tlsPort: g.tlsPort,
      autoport: g.autoport ? "yes" : "no",
      listen: g.listen,
      passwd: g.passwd,
    },
    g.listens.map((l) => el("listen", { type: l.type, address: l.address, network: l.network })),
  );
}

function writeHostdev(h: HostdevDef): XmlElement {
  return el("hostdev", { mode: h.mode, type: h.type, managed: h.managed }, [
    el("source", {}, [h.address && el("address", pciAddressAttrs(h.address))]),
    h.romBar !== undefined && el("rom", { bar: h.romBar }),
  ]);
}

function writeDevices(d: DevicesDef): XmlElement {
  return el("devices", {}, [
    d.emulator !== undefined && el("emulator", {}, d.emulator),
    ...d.disks.map(writeDisk),
    ...d.controllers.map((c) => el("controller", { type: c.type, index: c.index, model: c.model })),
    ...d.interfaces.map(writeInterface),
    ...d.serials.map((s) =>
      el("serial", { type: s.type }, [
        s.sourcePath !== undefined && el("source", { path: s.sourcePath }),
        el("target", { type: s.targetType, port: s.targetPort }),
      ]),
    ),
    ...d.consoles.map((c) =>
      el("console", { type: c.type }, [
        c.sourcePath !== undefined && el("source", { path: c.sourcePath }),
        el("target", { type: c.targetType, port: c.targetPort }),
      ]),
    ),
    ...d.channels.map((c) =>
      el("channel", { type: c.type }, [
        c.sourcePath !== undefined && el("source", { mode: "bind", path: c.sourcePath }),
        el("target", { type: c.targetType, name: c.targetName }),
      ]),
    ),
    ...d.inputs.map((i) => el("input", { type: i.type, bus: i.bus })),
    ...d.graphics.map(writeGraphics),
    ...d.videos.map(writeVideo),
    ...d.hostdevs.map(writeHostdev),
    d.memballoon && el("memballoon", { model: d.memballoon.model }),
    ...d.rngs.map((r) => el("rng", { model: r.model }, [el("backend", { model: r.backendModel }, r.backend)])),
  ]);
}

export function writeDomain(def: DomainDef): XmlElement {
  const { os, cpu, features, clock } = def;
  return el("domain", { type: def.type, id: def.runtimeId }, [
    el("name", {}, def.name),
    el("uuid", {}, def.uuid),
    def.description !== undefined && el("description", {}, def.description),
    def.metadata && el("metadata", {}, [writeMetadata(def.metadata)]),
    el("memory", { unit: "KiB" }, def.memoryKib),
    def.currentMemoryKib !== undefined && el("currentMemory", { unit: "KiB" }, def.currentMemoryKib),
    def.hugepages && el("memoryBacking", {}, [el("hugepages")]),
    el("vcpu", { placement: "static" }, def.vcpus),
    el("os", { firmware: os.firmware }, [
      el("type", { arch: os.arch, machine: os.machine }, "hvm"),
      os.loader && el("loader", { readonly: os.loader.readonly, secure: os.loader.secure, type: os.loader.type }, os.loader.path),
      os.nvram && el("nvram", { template: os.nvram.template }, os.nvram.path),
    ]),
    el("features", {}, [
      features.acpi && el("acpi"),
      features.apic && el("apic"),
      features.hyperv && writeHyperv(features.hyperv),
      features.smm !== undefined && el("smm", { state: features.smm ? "on" : "off" }),
    ]),
    cpu &&
      el("cpu", { mode: cpu.mode, match: cpu.match, check: cpu.check, migratable: cpu.migratable }, [
        cpu.model && el("model", { fallback: cpu.model.fallback }, cpu.model.name),
        cpu.topology && el("topology", { ...cpu.topology }),
        ...(cpu.features ?? []).map((f) => el("feature", { policy: f.policy, name: f.name })),
      ]),
    clock &&
      el(
        "clock",
        { offset: clock.offset },
        clock.timers.map((t) => el("timer", { ...t })),
      ),
    def.onPoweroff !== undefined && el("on_poweroff", {}, def.onPoweroff),
    def.onReboot !== undefined && el("on_reboot", {}, def.onReboot),
    def.onCrash !== undefined && el("on_crash", {}, def.onCrash),
    writeDevices(def.devices),
  ]);
}
