import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSnapshotXml, parseSnapshotXml, type ParsedSnapshot } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");

describe("buildSnapshotXml", () => {
  test("memory, description and the chosen disks", () => {
    expect(buildSnapshotXml({ name: "s1", description: "before upgrade", includeMemory: true, diskTargets: ["vda", "vdb"] })).toBe(`<domainsnapshot>
  <name>s1</name>
  <description>before upgrade</description>
  <memory snapshot="internal"/>
  <disks>
    <disk name="vda" snapshot="internal"/>
    <disk name="vdb" snapshot="internal"/>
  </disks>
</domainsnapshot>
`);
  });

  test("without memory, description or disk list", () => {
    expect(buildSnapshotXml({ name: "s2", includeMemory: false })).toBe(`<domainsnapshot>
  <name>s2</name>
  <memory snapshot="no"/>
</domainsnapshot>
`);
  });
});

describe("parseSnapshotXml", () => {
  const cases: [string, ParsedSnapshot][] = [
    [
      "virsh-snapshot-dumpxml-child.xml",
      {
        name: "after-kernel-6.1.0-27",
        description: "kernel upgrade & reboot\ntested",
        createdAt: new Date(1763622000 * 1000),
        parent: "clean-install",
        state: "running",
        hasMemory: true,
      },
    ],
    [
      "virsh-snapshot-dumpxml-root-shutoff.xml",
      {
        name: "clean-install",
        description: "",
        createdAt: new Date(1763535600 * 1000),
        state: "stopped",
        hasMemory: false,
      },
    ],
    [
      // Captured from libvirt 9.0's test driver.
      "testdriver-snapshot-child.xml",
      {
        name: "after-upgrade",
        description: "",
        createdAt: new Date(1795312057 * 1000),
        parent: "before-upgrade",
        state: "running",
        hasMemory: true,
      },
    ],
  ];
  for (const [file, expected] of cases) {
    test(file, () => {
      expect(parseSnapshotXml(fixture(file))).toStrictEqual(expected);
    });
  }

  const doc = (body: string) => `<domainsnapshot><name>n</name><creationTime>10</creationTime>${body}</domainsnapshot>`;
  const states: [string, string, ParsedSnapshot["state"], boolean][] = [
    ["paused without <memory> (old libvirt) had memory", "<state>paused</state>", "paused", true],
    ["shutoff without <memory>", "<state>shutoff</state>", "stopped", false],
    ["disk-only of a running VM", "<state>disk-snapshot</state><memory snapshot='no'/>", "stopped", false],
    ["external memory", "<state>running</state><memory snapshot='external' file='/x'/>", "running", true],
    ["crashed", "<state>crashed</state>", "crashed", false],
    ["pmsuspended", "<state>pmsuspended</state>", "suspended", false],
  ];
  for (const [name, body, state, hasMemory] of states) {
    test(name, () => {
      const parsed = parseSnapshotXml(doc(body));
      expect([parsed.state, parsed.hasMemory]).toStrictEqual([state, hasMemory]);
    });
  }

  test("missing or unknown state and non-snapshot documents are errors", () => {
    expect(() => parseSnapshotXml(doc(""))).toThrow("known <state>");
    expect(() => parseSnapshotXml(doc("<state>levitating</state>"))).toThrow('"levitating"');
    expect(() => parseSnapshotXml("<domain/>")).toThrow("expected <domainsnapshot>");
    expect(() => parseSnapshotXml(doc("<state>running</state>").replace("10", "soon"))).toThrow("creationTime");
  });

  test("the round trip of what we build, once libvirt adds state and time", () => {
    const built = buildSnapshotXml({ name: "a&b <c>", description: " spaced ", includeMemory: false });
    const parsed = parseSnapshotXml(built.replace("</domainsnapshot>", "<state>shutoff</state><creationTime>5</creationTime></domainsnapshot>"));
    expect(parsed).toStrictEqual({
      name: "a&b <c>",
      description: " spaced ",
      createdAt: new Date(5000),
      state: "stopped",
      hasMemory: false,
    });
  });
});
