// What a storage pool definition may say, for every pool type, in one place for both backends:
// ids, paths, NFS servers and versions, Ceph monitors and users, iSCSI portals and IQNs. Each
// rule names the request field at fault (the contract's names: config.nfs.server, ...).

import { createHash } from "node:crypto";
import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import type { HostPort, PoolDefinition } from "../types.ts";

const POOL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
/** A host name or IPv4 address; IPv6 addresses are checked apart (they contain ':'). */
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_RE = /^[0-9A-Fa-f:.]{2,45}$/;
/** mount -o options: no commas (they separate options), no spaces, no quotes. */
const MOUNT_OPTION_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:=/+-]{0,127}$/;
const CEPH_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const IQN_RE = /^(iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:[\x21-\x7e]+)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;
const VG_RE = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;

export const NFS_VERSIONS = ["3", "4", "4.0", "4.1", "4.2"] as const;
export const DEFAULT_NFS_VERSION = "4.1";

/** The control plane's NFS mount options ("rw, noatime,"): comma-separated, blanks dropped. */
export const nfsMountOptions = (text: string): string[] =>
  text
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
export const CEPH_MONITOR_PORT = 6789;
export const ISCSI_PORT = 3260;
export const NFS_PORT = 2049;
export const DEFAULT_CEPH_USER = "admin";
export const DEFAULT_CEPH_KEYRING = "/etc/ceph/ceph.client.admin.keyring";

const bad = (field: string, rule: string) => new HypervisorError("invalid_argument", `${field}: ${rule}`, field);
const show = (v: unknown) => JSON.stringify(String(v).slice(0, 80));

export function checkPoolId(id: unknown, field = "pool_id"): string {
  if (typeof id !== "string" || !POOL_ID_RE.test(id) || id.includes("..")) {
    throw bad(field, `must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, without '..', got ${show(id)}`);
  }
  return id;
}

export function checkHost(host: string, field: string): string {
  const ok = HOSTNAME_RE.test(host) || (host.includes(":") && IPV6_RE.test(host));
  if (!ok) throw bad(field, `must be a host name or IP address, got ${show(host)}`);
  return host;
}

/** "host", "host:port", "[v6]:port" -> host and port (defaultPort when none). */
export function parseHostPort(text: string, defaultPort: number, field: string): HostPort {
  const t = text.trim();
  let host = t;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1] ?? "";
    port = v6[2];
  } else if ((t.match(/:/g) ?? []).length === 1) {
    [host, port] = t.split(":") as [string, string];
  }
  checkHost(host, field);
  const n = port === undefined ? defaultPort : Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad(field, `port must be 1-65535, got ${show(port)}`);
  return { host, port: n };
}

export function checkDirectory(path: unknown, field: string): string {
  if (typeof path !== "string" || !path.startsWith("/") || CONTROL_RE.test(path) || path.length > 4096) {
    throw bad(field, `must be an absolute directory path, got ${show(path)}`);
  }
  if (posix.normalize(path) !== path.replace(/(.)\/+$/, "$1") || path.split("/").includes("..")) {
    throw bad(field, `must be a plain path without ., .. or //, got ${show(path)}`);
  }
  if (path === "/") throw bad(field, "the root directory cannot be a pool");
  return path;
}

/** Validates the whole definition; unknown types are invalid_argument naming "type". */
export function validatePoolDefinition(def: PoolDefinition): void {
  checkPoolId(def?.id);
  switch (def.type) {
    case "dir":
      checkDirectory(def.path, "config.local.path");
      if (def.capacityBytes !== undefined && (!Number.isSafeInteger(def.capacityBytes) || def.capacityBytes < 0)) {
        throw bad("config.local.capacity_gib", `must be a whole positive size, got ${def.capacityBytes}`);
      }
      return;
    case "netfs": {
      const nfs = def.nfs;
      checkDirectory(def.path, "config.nfs.mount_point");
      checkHost(nfs.server, "config.nfs.server");
      checkDirectory(nfs.exportPath, "config.nfs.export_path");
      if (!(NFS_VERSIONS as readonly string[]).includes(nfs.version)) {
        throw bad("config.nfs.version", `must be one of ${NFS_VERSIONS.join(", ")}, got ${show(nfs.version)}`);
      }
      for (const o of nfs.options) {
        if (!MOUNT_OPTION_RE.test(o)) throw bad("config.nfs.options", `${show(o)} is not a mount option (letters, digits, _ . : = / + -)`);
        if (/^(nfs)?vers=/.test(o)) throw bad("config.nfs.options", `give the NFS version in config.nfs.version, not as ${show(o)}`);
      }
      return;
    }
    case "rbd": {
      const ceph = def.ceph;
      if (!CEPH_NAME_RE.test(ceph.pool)) throw bad("config.ceph.pool_name", `must be a Ceph pool name, got ${show(ceph.pool)}`);
      if (ceph.monitors.length === 0) throw bad("config.ceph.monitors", "at least one monitor (host:port) is required");
      for (const [i, m] of ceph.monitors.entries()) checkHost(m.host, `config.ceph.monitors[${i}]`);
      if (!CEPH_NAME_RE.test(ceph.user)) throw bad("config.ceph.user", `must be a Ceph user name without "client.", got ${show(ceph.user)}`);
      if (ceph.keyringPath !== "" && !ceph.keyringPath.startsWith("/"))
        throw bad("config.ceph.keyring_path", `must be an absolute path, got ${show(ceph.keyringPath)}`);
      if (ceph.secretUuid !== undefined && !UUID_RE.test(ceph.secretUuid)) throw bad("config.ceph.secret_uuid", `must be a UUID, got ${show(ceph.secretUuid)}`);
      if (ceph.namespace !== "") {
        throw new HypervisorError(
          "unsupported",
          `config.ceph.namespace: libvirt's rbd pools cannot be limited to a namespace (${show(ceph.namespace)}); use a Ceph pool of its own`,
          "config.ceph.namespace",
        );
      }
      return;
    }
    case "iscsi": {
      const is = def.iscsi;
      checkHost(is.portal.host, "config.iscsi.portal");
      if (!IQN_RE.test(is.target)) throw bad("config.iscsi.target", `must be an iSCSI name (iqn.YYYY-MM.domain:name, eui., naa.), got ${show(is.target)}`);
      if (!Number.isInteger(is.lun) || is.lun < 0 || is.lun > 16383) throw bad("config.iscsi.lun", `must be 0-16383, got ${is.lun}`);
      if (is.chap && (!CEPH_NAME_RE.test(is.chap.user) || is.chap.password === "" || CONTROL_RE.test(is.chap.password))) {
        throw bad("config.iscsi.chap_user", "CHAP needs a user name (letters, digits, . _ -) and a password");
      }
      if (is.volumeGroup !== undefined && !VG_RE.test(is.volumeGroup))
        throw bad("config.iscsi.volume_group", `must be an LVM volume group name, got ${show(is.volumeGroup)}`);
      return;
    }
    default:
      throw bad("type", `unknown pool type ${show((def as { type: unknown }).type)}`);
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID_RE.test(s);

/** A stable UUID (RFC 4122 version 5 layout over SHA-1) for the libvirt secret of a pool's credentials. */
export function derivedSecretUuid(poolId: string, user: string): string {
  const h = createHash("sha1").update(`limiquantix-pool-secret\0${poolId}\0${user}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Where the storage comes from, for people: "server:/export", "portal/target", monitors/pool. */
export function poolSourceText(def: PoolDefinition): string | undefined {
  switch (def.type) {
    case "dir":
      return undefined;
    case "netfs":
      return `${def.nfs.server}:${def.nfs.exportPath}`;
    case "rbd":
      return `${def.ceph.monitors.map((m) => `${m.host}:${m.port}`).join(",")}/${def.ceph.pool}`;
    case "iscsi":
      return `${def.iscsi.portal.host}:${def.iscsi.portal.port}/${def.iscsi.target}`;
  }
}

/** The server's NFS port: a `port=` mount option, else NFS's own. */
export function nfsPort(options: readonly string[]): number {
  const given = options.findLast((o) => o.startsWith("port="));
  const port = given === undefined ? Number.NaN : Number(given.slice("port=".length));
  // port=0 asks mount to look the port up with rpcbind; the NFS port is the likely answer.
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : NFS_PORT;
}

/** The endpoints a pool needs to answer before libvirt is asked to reach them. */
export function poolEndpoints(def: PoolDefinition): { what: string; endpoints: HostPort[] } | undefined {
  switch (def.type) {
    case "dir":
      return undefined;
    case "netfs":
      return { what: "NFS server", endpoints: [{ host: def.nfs.server, port: nfsPort(def.nfs.options) }] };
    case "rbd":
      return { what: "Ceph monitor", endpoints: def.ceph.monitors };
    case "iscsi":
      return { what: "iSCSI portal", endpoints: [def.iscsi.portal] };
  }
}

/** The libvirt volume name of a volume snapshot (CreateVolumeSnapshot). */
export const snapshotVolumeName = (volume: string, snapshot: string) => `${volume}@${snapshot}`;
