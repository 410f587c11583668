// Who QEMU runs as under libvirt's local system driver (qemu:///system). libvirt says so in its
// capabilities: the DAC security model's base label, "+uid:+gid". For a libvirt that does not,
// its config: qemu.conf's `user` and `group`, or the distribution's default user when they are
// commented out. Names and supplementary groups come from /etc/passwd and /etc/group: libvirt
// gives QEMU every group its user is a member of.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { lines, TelemetryParseError } from "../../telemetry/parse-error.ts";
import { child, children, parseXml, textOf } from "./domain-xml/xml-tree.ts";

export interface QemuUser {
  /** The user's name, when /etc/passwd knows the uid. */
  name?: string;
  uid: number;
  gid: number;
  /** Every group the process holds: gid and the user's supplementary groups, ascending. */
  groups: number[];
  /** Where the answer came from, for messages: "libvirt's capabilities", "/etc/libvirt/qemu.conf", ... */
  source: string;
}

/** qemu.conf's settings as written: a name, or "+123" for a numeric id. Absent when not set. */
export interface QemuConfIds {
  user?: string;
  group?: string;
}

const SETTING = /^(user|group)\s*=\s*/;

/**
 * qemu.conf's `user` and `group` in libvirt's config syntax: `name = "value"` or 'value' or
 * """value""", `#` comments, an optional `;`. Like libvirt, the first assignment wins and a value
 * that is not a string is an error. Other settings (lists spanning lines included) are skipped.
 */
export function parseQemuConf(text: string, file = "/etc/libvirt/qemu.conf"): QemuConfIds {
  const out: QemuConfIds = {};
  lines(text).forEach((raw, i) => {
    const line = raw.trim();
    const m = SETTING.exec(line);
    if (m === null) return;
    const key = m[1] as "user" | "group";
    const { value, rest } = quoted(line.slice(m[0].length), file, i + 1, key);
    if (!/^(;\s*)?(#.*)?$/.test(rest.trim())) throw new TelemetryParseError(file, i + 1, `${key}: unexpected ${JSON.stringify(rest.trim())} after the value`);
    if (out[key] === undefined) out[key] = value;
  });
  return out;
}

function quoted(text: string, file: string, line: number, key: string): { value: string; rest: string } {
  const quote = text.startsWith('"""') ? '"""' : text[0];
  if (quote !== '"' && quote !== "'" && quote !== '"""') {
    throw new TelemetryParseError(file, line, `${key}: expected a quoted string, got ${JSON.stringify(text)}`);
  }
  const end = text.indexOf(quote, quote.length);
  if (end < 0) throw new TelemetryParseError(file, line, `${key}: unterminated string ${text}`);
  return { value: text.slice(quote.length, end), rest: text.slice(end + quote.length) };
}

/** The uid and gid of libvirt's DAC base label ("+999:+993"), or undefined when libvirt reports none. */
export function parseDacBaseLabel(capabilitiesXml: string): { uid: number; gid: number } | undefined {
  const host = child(parseXml(capabilitiesXml, "capabilities XML"), "host");
  for (const model of children(host, "secmodel")) {
    if (textOf(child(model, "model")) !== "dac") continue;
    for (const label of children(model, "baselabel")) {
      const m = /^\+?(\d+):\+?(\d+)$/.exec(textOf(label)?.trim() ?? "");
      if (m) return { uid: Number(m[1]), gid: Number(m[2]) };
    }
  }
  return undefined;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const ID = /^\d+$/;

/** /etc/passwd (name:password:uid:gid:...). Lines that are not entries (NIS "+" lines, garbage) are skipped, as glibc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).flatMap((line) => {
    const f = line.split(":");
    const [name, , uid, gid] = f;
    if (f.length < 7 || !name || name.startsWith("+") || name.startsWith("-") || !ID.test(uid ?? "") || !ID.test(gid ?? "")) return [];
    return [{ name, uid: Number(uid), gid: Number(gid) }];
  });
}

/** /etc/group (name:password:gid:member,member). Lines that are not entries are skipped, as glibc does. */
export function parseGroup(text: string): GroupEntry[] {
  return lines(text).flatMap((line) => {
    const f = line.split(":");
    const [name, , gid, members] = f;
    if (f.length < 4 || !name || name.startsWith("+") || name.startsWith("-") || !ID.test(gid ?? "")) return [];
    return [
      {
        name,
        gid: Number(gid),
        members: (members ?? "")
          .split(",")
          .map((m) => m.trim())
          .filter((m) => m !== ""),
      },
    ];
  });
}

/** libvirt's rule (virGetUserID/virGetGroupID): "+123" is the number; a name is looked up, and a name nobody has is read as a number. */
function idOf(value: string, lookup: (name: string) => number | undefined): number | undefined {
  if (/^\+\d+$/.test(value)) return Number(value.slice(1));
  return lookup(value) ?? (ID.test(value) ? Number(value) : undefined);
}

/** The process's identity: the uid's name and, as libvirt does (getgrouplist), the groups listing that name. */
export function qemuUserOf(uid: number, gid: number, passwd: readonly PasswdEntry[], groups: readonly GroupEntry[], source: string): QemuUser {
  const name = passwd.find((p) => p.uid === uid)?.name;
  const supplementary = name === undefined ? [] : groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
  return { ...(name !== undefined ? { name } : {}), uid, gid, groups: [...new Set([gid, ...supplementary])].sort((a, b) => a - b), source };
}

/** Users libvirt builds default to when qemu.conf sets none: Debian and Ubuntu, then Fedora, RHEL, SUSE. */
const DEFAULT_USERS = ["libvirt-qemu", "qemu"];

/**
 * The user from qemu.conf's ids; a missing user is the distribution's default, a missing group
 * that user's primary group. Undefined when a name cannot be resolved.
 */
export function qemuUserFromConf(conf: QemuConfIds, passwd: readonly PasswdEntry[], groups: readonly GroupEntry[], source: string): QemuUser | undefined {
  const userName = (n: string) => passwd.find((p) => p.name === n)?.uid;
  const user = conf.user ?? DEFAULT_USERS.find((n) => userName(n) !== undefined);
  const uid = user === undefined ? undefined : idOf(user, userName);
  if (uid === undefined) return undefined;
  const gid = conf.group === undefined ? passwd.find((p) => p.uid === uid)?.gid : idOf(conf.group, (n) => groups.find((g) => g.name === n)?.gid);
  if (gid === undefined) return undefined;
  return qemuUserOf(uid, gid, passwd, groups, conf.user === undefined ? `${source} (no user set: the default ${user})` : source);
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Reads who QEMU runs as: libvirt's DAC label first, qemu.conf under etcRoot (default /etc) when
 * libvirt reports none. Undefined when neither says; parse and read errors are thrown.
 */
export async function readQemuUser(opts: { capabilitiesXml: string; etcRoot?: string }): Promise<QemuUser | undefined> {
  const etc = opts.etcRoot ?? "/etc";
  const [passwdText, groupText] = await Promise.all([readOptional(join(etc, "passwd")), readOptional(join(etc, "group"))]);
  const passwd = parsePasswd(passwdText ?? "");
  const groups = parseGroup(groupText ?? "");
  const label = parseDacBaseLabel(opts.capabilitiesXml);
  if (label) return qemuUserOf(label.uid, label.gid, passwd, groups, `libvirt's DAC label +${label.uid}:+${label.gid}`);
  const confPath = join(etc, "libvirt", "qemu.conf");
  const conf = await readOptional(confPath);
  return qemuUserFromConf(conf === undefined ? {} : parseQemuConf(conf, confPath), passwd, groups, confPath);
}
