import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  parseDacBaseLabel,
  parseGroup,
  parsePasswd,
  parseQemuConf,
  qemuUserFromConf,
  qemuUserOf,
  readQemuUser,
} from "../../../src/hypervisor/libvirt/qemu-user.ts";

const TREE = join(import.meta.dir, "../../fixtures/qemu-user/debian12-kvm");
const CAPS = readFileSync(join(TREE, "capabilities.xml"), "utf8");

describe("parseQemuConf", () => {
  const cases: [string, string, ReturnType<typeof parseQemuConf>][] = [
    ["empty", "", {}],
    ["all commented out (Debian's file)", '#user = "libvirt-qemu"\n#group = "libvirt-qemu"\n', {}],
    ["double quotes", 'user = "qemu"\ngroup = "kvm"\n', { user: "qemu", group: "kvm" }],
    ["single quotes, no spaces", "user='qemu'\ngroup='qemu'", { user: "qemu", group: "qemu" }],
    ["triple quotes", 'user = """qemu"""', { user: "qemu" }],
    ["numeric ids", 'user = "+0"\ngroup = "+107"', { user: "+0", group: "+107" }],
    ["indented, trailing comment and separator", '  user = "qemu" ; # the QEMU user\n\tgroup = "qemu"   # comment', { user: "qemu", group: "qemu" }],
    ["a # inside the value is part of it", 'user = "a#b"', { user: "a#b" }],
    ["first assignment wins, as in libvirt", 'user = "first"\nuser = "second"', { user: "first" }],
    ["similar names are other settings", 'swtpm_user = "tss"\nswtpm_group = "tss"\nusers = "x"\nuser_x = "y"', {}],
    ["a list spanning lines is skipped", 'cgroup_device_acl = [\n    "/dev/null", "/dev/full",\n]\nuser = "qemu"', { user: "qemu" }],
    ["CRLF line ends", 'user = "qemu"\r\ngroup = "qemu"\r\n', { user: "qemu", group: "qemu" }],
  ];
  for (const [name, text, want] of cases) {
    test(name, () => expect(parseQemuConf(text)).toEqual(want));
  }

  const bad: [string, string, string][] = [
    ["unquoted", "group = libvirt-qemu", "/etc/libvirt/qemu.conf:1: group: expected a quoted string"],
    ["a number", "\nuser = 0", "/etc/libvirt/qemu.conf:2: user: expected a quoted string"],
    ["unterminated", 'user = "qemu', "/etc/libvirt/qemu.conf:1: user: unterminated string"],
    ["garbage after the value", 'user = "qemu" x', '/etc/libvirt/qemu.conf:1: user: unexpected "x" after the value'],
    ["no value", "user =", "/etc/libvirt/qemu.conf:1: user: expected a quoted string"],
  ];
  for (const [name, text, message] of bad) {
    test(`refused: ${name}, naming file and line`, () => expect(() => parseQemuConf(text)).toThrow(message));
  }

  test("the real Debian 12 file sets neither", () => {
    expect(parseQemuConf(readFileSync(join(TREE, "etc/libvirt/qemu.conf"), "utf8"))).toEqual({});
  });
});

describe("parseDacBaseLabel", () => {
  const caps = (secmodels: string) => `<capabilities><host><cpu><arch>x86_64</arch></cpu>${secmodels}</host></capabilities>`;
  test("captured capabilities: +999:+993", () => expect(parseDacBaseLabel(CAPS)).toEqual({ uid: 999, gid: 993 }));
  test("the dac model, not the first one", () => {
    const xml = caps(
      "<secmodel><model>apparmor</model><doi>0</doi></secmodel><secmodel><model>dac</model><doi>0</doi><baselabel type='kvm'>+64055:+108</baselabel></secmodel>",
    );
    expect(parseDacBaseLabel(xml)).toEqual({ uid: 64055, gid: 108 });
  });
  test("root", () =>
    expect(parseDacBaseLabel(caps("<secmodel><model>dac</model><baselabel type='qemu'>+0:+0</baselabel></secmodel>"))).toEqual({ uid: 0, gid: 0 }));
  test("absent: no secmodel, no dac, no label, a label that is not uid:gid", () => {
    expect(parseDacBaseLabel(caps(""))).toBeUndefined();
    expect(parseDacBaseLabel(caps("<secmodel><model>none</model></secmodel>"))).toBeUndefined();
    expect(parseDacBaseLabel(caps("<secmodel><model>dac</model><doi>0</doi></secmodel>"))).toBeUndefined();
    expect(parseDacBaseLabel(caps("<secmodel><model>dac</model><baselabel>qemu</baselabel></secmodel>"))).toBeUndefined();
  });
  test("malformed XML is an error", () => expect(() => parseDacBaseLabel("<capabilities>")).toThrow("capabilities XML"));
});

describe("/etc/passwd and /etc/group", () => {
  test("entries; short, NIS and non-numeric lines skipped as glibc does", () => {
    const passwd = "root:x:0:0:root:/root:/bin/bash\n\n+nis::::::\nshort:x:5\nbad:x:a:1:::\nqemu:x:107:107:qemu user:/:/sbin/nologin\n";
    expect(parsePasswd(passwd)).toEqual([
      { name: "root", uid: 0, gid: 0 },
      { name: "qemu", uid: 107, gid: 107 },
    ]);
    const group = "root:x:0:\nkvm:x:36:qemu, other\n-nis:::\nshort:x\nqemu:x:107:\n";
    expect(parseGroup(group)).toEqual([
      { name: "root", gid: 0, members: [] },
      { name: "kvm", gid: 36, members: ["qemu", "other"] },
      { name: "qemu", gid: 107, members: [] },
    ]);
    expect(parsePasswd("")).toEqual([]);
    expect(parseGroup("")).toEqual([]);
  });
});

describe("qemuUserFromConf", () => {
  const passwd = parsePasswd("root:x:0:0::/:/bin/sh\nlibvirt-qemu:x:64055:108::/:/bin/false\nqemu:x:107:107::/:/bin/false\n");
  const groups = parseGroup("root:x:0:\nkvm:x:108:libvirt-qemu,qemu\nqemu:x:107:\ndisk:x:6:qemu\n");
  const cases: [string, Parameters<typeof qemuUserFromConf>[0], Partial<ReturnType<typeof qemuUserFromConf>> | undefined][] = [
    ["names", { user: "qemu", group: "qemu" }, { name: "qemu", uid: 107, gid: 107, groups: [6, 107, 108] }],
    ["numeric ids", { user: "+107", group: "+6" }, { name: "qemu", uid: 107, gid: 6, groups: [6, 108] }],
    ["a number nobody has as a name", { user: "4242", group: "4243" }, { uid: 4242, gid: 4243, groups: [4243] }],
    ["user only: its primary group", { user: "qemu" }, { uid: 107, gid: 107 }],
    ["neither: the Debian default first", {}, { name: "libvirt-qemu", uid: 64055, gid: 108, groups: [108] }],
    ["root", { user: "+0", group: "+0" }, { name: "root", uid: 0, gid: 0, groups: [0] }],
    ["an unknown name", { user: "nobody-here" }, undefined],
    ["an unknown group", { user: "qemu", group: "nope" }, undefined],
  ];
  for (const [name, conf, want] of cases) {
    test(name, () => {
      const got = qemuUserFromConf(conf, passwd, groups, "qemu.conf");
      if (want === undefined) expect(got).toBeUndefined();
      else expect(got).toMatchObject(want);
    });
  }
  test("the source says when the default was taken", () => {
    expect(qemuUserFromConf({}, passwd, groups, "qemu.conf")?.source).toBe("qemu.conf (no user set: the default libvirt-qemu)");
    expect(qemuUserFromConf({}, parsePasswd("qemu:x:107:107::/:/bin/false"), groups, "qemu.conf")?.name).toBe("qemu");
    expect(qemuUserFromConf({}, [], groups, "qemu.conf")).toBeUndefined();
  });
  test("qemuUserOf: a uid nobody has gets only its gid", () => {
    expect(qemuUserOf(5000, 5000, passwd, groups, "label")).toEqual({ uid: 5000, gid: 5000, groups: [5000], source: "label" });
  });
});

describe("readQemuUser over the captured tree", () => {
  let scratch: string | undefined;
  afterEach(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  });

  test("libvirt's DAC label, with the name and supplementary groups from /etc", async () => {
    expect(await readQemuUser({ capabilitiesXml: CAPS, etcRoot: join(TREE, "etc") })).toEqual({
      name: "libvirt-qemu",
      uid: 999,
      gid: 993,
      groups: [993, 995],
      source: "libvirt's DAC label +999:+993",
    });
  });

  test("without the label: qemu.conf, here Debian's default user, and the same answer", async () => {
    const noDac = CAPS.replace(/<secmodel>\s*<model>dac<\/model>[\s\S]*?<\/secmodel>/, "");
    expect(parseDacBaseLabel(noDac)).toBeUndefined();
    expect(await readQemuUser({ capabilitiesXml: noDac, etcRoot: join(TREE, "etc") })).toMatchObject({
      name: "libvirt-qemu",
      uid: 999,
      gid: 993,
      groups: [993, 995],
    });
  });

  test("a qemu.conf libvirt would refuse is an error naming its line; no files at all is no answer", async () => {
    scratch = mkdtempSync(join(tmpdir(), "lqx-qemu-user-"));
    mkdirSync(join(scratch, "libvirt"));
    writeFileSync(join(scratch, "libvirt", "qemu.conf"), "# set by hand\nuser = qemu\n");
    const noLabel = "<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>";
    await expect(readQemuUser({ capabilitiesXml: noLabel, etcRoot: scratch })).rejects.toThrow(
      `${scratch}/libvirt/qemu.conf:2: user: expected a quoted string`,
    );
    rmSync(join(scratch, "libvirt"), { recursive: true });
    expect(await readQemuUser({ capabilitiesXml: noLabel, etcRoot: scratch })).toBeUndefined();
  });
});
