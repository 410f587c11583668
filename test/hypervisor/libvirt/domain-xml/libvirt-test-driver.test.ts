// libvirt itself reads what we build: schema validation at define, its re-serialisation parsed
// back. Needs libvirt0 (CI installs it for the backend's fast tier); skips elsewhere, fails in CI.

import { afterAll, describe, expect, test } from "bun:test";
import {
  METADATA_NS,
  METADATA_PREFIX,
  buildDomainXml,
  buildMetadataXml,
  buildSnapshotXml,
  parseCapabilitiesXml,
  parseDomainXml,
  parseSnapshotXml,
} from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { libvirtAvailable, openTestDriver, XML_INACTIVE, XML_SECURE } from "./libvirt-test-driver.ts";
import { expectedSpec, hostileSpec, profiles } from "./profiles.ts";

if (!libvirtAvailable) {
  if (process.env.CI) throw new Error("libvirt.so.0 is missing on CI: install the Debian package libvirt0");
  console.warn("skipping libvirt test-driver tests: libvirt.so.0 not found (apt-get install libvirt0)");
}

const TARGETS: Record<string, string[]> = {
  "minimal-bios": ["vda"],
  "uefi-disks-nics-spice": ["vda", "sda", "sdb"],
  "gpu-passthrough": ["vda"],
};

describe.skipIf(!libvirtAvailable)("libvirt test driver", () => {
  const driver = libvirtAvailable ? openTestDriver() : undefined;
  afterAll(() => driver?.close());
  const lv = () => {
    if (!driver) throw new Error("unreachable");
    return driver;
  };

  for (const [name, targets] of Object.entries(TARGETS)) {
    test(`${name}: libvirt accepts it (schema-validated) and its inactive and live XML parse to the spec`, () => {
      const input = profiles[name]!;
      const dom = lv().define(buildDomainXml(input));
      try {
        const inactive = parseDomainXml(lv().xml(dom, XML_INACTIVE | XML_SECURE));
        expect(inactive.spec).toStrictEqual(expectedSpec(input, targets));
        expect(inactive.createdAt).toEqual(input.createdAt);
        lv().start(dom);
        const live = parseDomainXml(lv().xml(dom, XML_SECURE));
        expect(live.spec).toStrictEqual(expectedSpec(input, targets));
        expect(live.id).toBe(input.id);
      } finally {
        lv().remove(dom);
      }
    });
  }

  test("a name of markup reaches libvirt as a name (and is refused for its '/')", () => {
    expect(() => lv().define(buildDomainXml(profiles["hostile-strings"]!))).toThrow(
      "name </name><devices> cannot contain '/'",
    );
  });

  test("hostile labels, paths, password and description survive libvirt's parse and re-serialisation", () => {
    const input = { ...profiles["hostile-strings"]!, spec: { ...hostileSpec, name: `<devices>&"'x` } };
    const dom = lv().define(buildDomainXml(input));
    try {
      const parsed = parseDomainXml(lv().xml(dom, XML_INACTIVE | XML_SECURE));
      expect(parsed.spec).toStrictEqual(expectedSpec(input, ["vda"]));
    } finally {
      lv().remove(dom);
    }
  });

  test("snapshots: libvirt's document gives name, description, parent, state and memory", () => {
    const input = profiles["minimal-bios"]!;
    const dom = lv().define(buildDomainXml(input));
    try {
      lv().start(dom);
      const first = parseSnapshotXml(
        lv().snapshot(dom, buildSnapshotXml({ name: "base", description: "a & <b>\nc", includeMemory: true })),
      );
      const second = parseSnapshotXml(lv().snapshot(dom, buildSnapshotXml({ name: "next", includeMemory: true })));
      expect({ ...first, createdAt: undefined }).toStrictEqual({
        name: "base",
        description: "a & <b>\nc",
        createdAt: undefined,
        state: "running",
        hasMemory: true,
      });
      expect(second.parent).toBe("base");
      expect(Math.abs(first.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    } finally {
      lv().remove(dom);
    }
  });

  test("metadata replaced with virDomainSetMetadata (after a hot-plug) is read back", () => {
    const input = profiles["minimal-bios"]!;
    const dom = lv().define(buildDomainXml(input));
    try {
      lv().start(dom);
      const spec = {
        ...input.spec,
        labels: { role: "db & <cache>", "new\nline": "x" },
        disks: [
          ...input.spec.disks,
          {
            id: "hot",
            newImage: { sizeBytes: 1073741824, format: "qcow2" as const },
            resolvedPath: "/var/lib/limiquantix/vms/minimal/hot.qcow2",
            bus: "virtio" as const,
            bootOrder: 0,
            readonly: false,
            device: "disk" as const,
            target: "vdb",
          },
        ],
      };
      // LIVE (1) | CONFIG (2); the test driver cannot hot-plug, so only the metadata is checked.
      lv().setMetadata(dom, buildMetadataXml(spec, input.createdAt), METADATA_PREFIX, METADATA_NS, 3);
      for (const flags of [XML_INACTIVE, 0]) {
        const parsed = parseDomainXml(lv().xml(dom, flags));
        expect(parsed.spec.labels).toStrictEqual(spec.labels);
        expect(parsed.createdAt).toEqual(input.createdAt);
      }
    } finally {
      lv().remove(dom);
    }
  });

  test("capabilities parse", () => {
    const caps = parseCapabilitiesXml(lv().capabilities());
    expect(caps.arch).toBe("i686");
    expect(caps.guestArchs.map((g) => g.osType)).toStrictEqual(["hvm", "xen"]);
  });
});
