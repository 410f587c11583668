// The bun:ffi binding against libvirt's in-process test driver (Debian package libvirt0).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { HypervisorError } from "../../../src/hypervisor/errors.ts";

const lv = ffi.loadLibvirt();
let c: ffi.Connection;
const UUID = "5a1b0c2d-0000-4000-8000-00000000f1f1";

function domainXml(uuid: string, name: string): string {
  return (
    `<domain type='qemu'><name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><vcpu>2</vcpu>` +
    `<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><disk type='file' device='disk'><source file='/tmp/none.qcow2'/>` +
    `<target dev='vda' bus='virtio'/></disk></devices></domain>`
  );
}

beforeAll(() => {
  c = ffi.openConnection(lv, "test:///default");
});
afterAll(() => ffi.closeConnection(c));

describe("connection", () => {
  test("versions, type, hostname, node info", () => {
    expect(ffi.formatVersion(9_000_000)).toBe("9.0.0");
    expect(ffi.formatVersion(10_002_013)).toBe("10.2.13");
    expect(ffi.driverType(c)).toBe("TEST");
    expect(ffi.hostname(c).length).toBeGreaterThan(0);
    expect(ffi.canonicalUri(c)).toBe("test:///default");
    expect(ffi.nodeInfo(c).memoryKib).toBeGreaterThan(0);
    expect(ffi.nodeInfo(c).cpus).toBeGreaterThan(0);
  });

  test("capabilities XML is read whole and freed", () => {
    const xml = ffi.capabilitiesXml(c);
    expect(xml.startsWith("<capabilities>")).toBe(true);
    expect(xml.trimEnd().endsWith("</capabilities>")).toBe(true);
  });

  test("an unknown URI scheme is unavailable, with libvirt's reason", () => {
    try {
      ffi.openConnection(lv, "nosuchdriver:///x");
      throw new Error("opened");
    } catch (err) {
      expect(err).toBeInstanceOf(HypervisorError);
      expect((err as HypervisorError).kind).toBe("unavailable");
      expect((err as HypervisorError).message).toContain("nosuchdriver:///x");
    }
  });

  test("loading from a missing library names the package to install", () => {
    expect(() => ffi.openLibvirtFrom(["libvirt-does-not-exist.so.0"])).toThrow(/apt-get install libvirt0/);
  });
});

describe("error mapping", () => {
  test.each([
    [42, "not_found"],
    [72, "not_found"],
    [55, "invalid_state"],
    [8, "invalid_argument"],
    [27, "invalid_argument"],
    [3, "unsupported"],
    [74, "unsupported"],
    [84, "unsupported"],
    [38, "unavailable"],
    [39, "unavailable"],
    [5, "unavailable"],
    [28, "already_exists"],
    [78, "cancelled"],
    [68, "timeout"],
    [1, "internal"],
    [9, "internal"],
    [9999, "internal"],
  ] as const)("code %d is %s", (code, kind) => {
    expect(ffi.kindForLibvirtCode(code)).toBe(kind);
  });

  test("a failed lookup reads code, domain and message, then resets the error", () => {
    try {
      ffi.lookupDomain(c, "00000000-0000-4000-8000-000000000000");
      throw new Error("found");
    } catch (err) {
      const e = err as ffi.LibvirtError;
      expect(e.kind).toBe("not_found");
      expect(e.code).toBe(42);
      expect(e.errorDomain).toBe(12); // VIR_FROM_TEST
      expect(e.message).toContain("Domain not found");
    }
    expect(lv.sym.virGetLastError()).toBeNull();
  });

  test("malformed XML is invalid_argument", () => {
    expect(() => ffi.defineDomain(c, "<domain")).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
  });

  test("a NUL inside a string is refused before reaching C", () => {
    expect(() => ffi.cstr("a\0b")).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
  });
});

describe("domains, snapshots, stats", () => {
  test("define, start, state, info, XML, pause, resume, destroy, undefine", () => {
    const d = ffi.defineDomain(c, domainXml(UUID, "ffi-test-vm"));
    try {
      expect(ffi.domainUuid(c, d)).toBe(UUID);
      expect(ffi.domainName(c, d)).toBe("ffi-test-vm");
      expect(ffi.domainState(c, d).state).toBe(5);
      ffi.createDomain(c, d);
      expect(ffi.domainState(c, d).state).toBe(1);
      // The test driver calls this "internal"; the backend checks state first for a clear answer.
      expect(() => ffi.createDomain(c, d)).toThrow(/already running/);
      expect(ffi.domainXml(c, d)).toContain("<name>ffi-test-vm</name>");
      ffi.suspendDomain(c, d);
      expect(ffi.domainState(c, d).state).toBe(3);
      ffi.resumeDomain(c, d);
      const stats = ffi.oneDomainStats(c, d);
      expect(stats?.uuid).toBe(UUID);
      expect(stats?.params["state.state"]).toBe(1);
      expect(ffi.allDomainStats(c).some((r) => r.uuid === UUID)).toBe(true);

      const s1 = ffi.createSnapshot(c, d, "<domainsnapshot><name>s1</name><description>first</description></domainsnapshot>", 0);
      ffi.freeSnapshot(c, s1);
      const s2 = ffi.createSnapshot(c, d, "<domainsnapshot><name>s2</name></domainsnapshot>", 0);
      ffi.freeSnapshot(c, s2);
      expect(ffi.snapshotCount(c, d)).toBe(2);
      expect(ffi.currentSnapshotName(c, d)).toBe("s2");
      const list = ffi.listSnapshots(c, d);
      expect(list.map((s) => s.name).sort()).toEqual(["s1", "s2"]);
      expect(list.find((s) => s.name === "s2")?.current).toBe(true);
      expect(list.find((s) => s.name === "s1")?.xml).toContain("<description>first</description>");
      ffi.withSnapshot(c, d, "s1", (s) => {
        ffi.revertSnapshot(c, s);
      });
      expect(ffi.currentSnapshotName(c, d)).toBe("s1");
      expect(() => ffi.lookupSnapshot(c, d, "nope")).toThrow(expect.objectContaining({ kind: "not_found" }));

      ffi.destroyDomain(c, d);
      expect(ffi.domainState(c, d).state).toBe(5);
      ffi.undefineDomain(c, d, ffi.UNDEFINE.MANAGED_SAVE | ffi.UNDEFINE.SNAPSHOTS_METADATA);
    } finally {
      ffi.freeDomain(c, d);
    }
    expect(() => ffi.lookupDomain(c, UUID)).toThrow(expect.objectContaining({ kind: "not_found" }));
  });

  test("the test driver refuses device attach as unsupported", () => {
    const uuid = "5a1b0c2d-0000-4000-8000-00000000f1f2";
    const d = ffi.defineDomain(c, domainXml(uuid, "ffi-attach-vm"));
    try {
      expect(() => ffi.attachDevice(c, d, "<disk type='file'><source file='/tmp/a.raw'/><target dev='vdb'/></disk>", ffi.AFFECT.CONFIG)).toThrow(
        expect.objectContaining({ kind: "unsupported" }),
      );
      ffi.undefineDomain(c, d, 0);
    } finally {
      ffi.freeDomain(c, d);
    }
  });
});

describe("storage", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lq-ffi-pool-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a dir pool is created, a volume made and deleted by path", () => {
    const name = `lq-ffi-${Date.now()}`;
    const poolXml = `<pool type='dir'><name>${name}</name><target><path>${dir}</path></target></pool>`;
    const pool = ffi.ensureDirPool(c, { name, path: dir, poolXml });
    try {
      const again = ffi.ensureDirPool(c, { name, path: dir, poolXml });
      ffi.freePool(c, again);
      const path = ffi.createVolume(
        c,
        pool,
        "<volume><name>v1.qcow2</name><capacity unit='bytes'>1048576</capacity><target><format type='qcow2'/></target></volume>",
      );
      expect(path).toBe(join(dir, "v1.qcow2"));
      expect(ffi.volumeExists(c, path)).toBe(true);
      expect(ffi.deleteVolumeByPath(c, path)).toBe(true);
      expect(ffi.deleteVolumeByPath(c, path)).toBe(false);
    } finally {
      ffi.freePool(c, pool);
    }
  });
});

describe("memory", () => {
  test("10k XML reads and failed lookups keep RSS flat (strings and errors are freed)", () => {
    const d = ffi.defineDomain(c, domainXml("5a1b0c2d-0000-4000-8000-00000000f1f3", "ffi-leak-vm"));
    const round = (n: number) => {
      for (let i = 0; i < n; i++) {
        ffi.domainXml(c, d);
        ffi.capabilitiesXml(c);
        try {
          ffi.lookupDomain(c, "00000000-0000-4000-8000-000000000000");
        } catch {}
      }
    };
    try {
      round(2000); // warm up allocators and the JIT
      Bun.gc(true);
      const before = process.memoryUsage().rss;
      round(10_000);
      Bun.gc(true);
      const grown = process.memoryUsage().rss - before;
      // capabilities alone are ~4 KB each: leaking them would add ~40 MB.
      expect(grown).toBeLessThan(12 * 1024 * 1024);
      ffi.undefineDomain(c, d, 0);
    } finally {
      ffi.freeDomain(c, d);
    }
  }, 20_000);
});
