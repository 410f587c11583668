// Every listing frees every handle it got, also when a read in the middle fails: each handle
// holds a reference on the connection, and one left over keeps virConnectClose from closing it
// (its socket, its memory, and libvirtd's count of clients stay). virConnectClose returns the
// references left, so 0 proves nothing was kept.

import { expect, test } from "bun:test";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { createOps } from "../../../src/hypervisor/libvirt/ops.ts";

const lv = ffi.loadLibvirt();
/** A virDomainXMLFlags bit no driver knows: virDomainGetXMLDesc refuses it (VIR_ERR_INVALID_ARG). */
const UNKNOWN_XML_FLAG = 1 << 30;

function domainXml(i: number): string {
  return (
    `<domain type='qemu'><name>lq14b-list-${process.pid}-${i}</name><uuid>5a1b0c2d-14b0-4000-8000-${String(i).padStart(12, "0")}</uuid>` +
    `<memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>`
  );
}

const poolXml = (i: number) => `<pool type='dir'><name>lq14b-list-${process.pid}-${i}</name><target><path>/tmp/lq14b-list-${i}</path></target></pool>`;

test("a domain listing that fails part-way frees every handle: the connection then really closes", () => {
  const c = ffi.openConnection(lv, "test:///default");
  for (let i = 0; i < 4; i++) ffi.freeDomain(c, ffi.defineDomain(c, domainXml(i)));
  const ops = createOps(() => c);
  try {
    expect(ops.domains().length).toBeGreaterThanOrEqual(5); // the driver's own "test" and ours
    // The first domain's XML read fails: the four or more handles after it must be freed too.
    expect(() => ops.domains(UNKNOWN_XML_FLAG)).toThrow();
  } finally {
    for (let i = 0; i < 4; i++) {
      const d = ffi.lookupDomainByName(c, `lq14b-list-${process.pid}-${i}`);
      if (d !== null) {
        ffi.undefineDomain(c, d, 0);
        ffi.freeDomain(c, d);
      }
    }
  }
  expect(ffi.closeConnection(c)).toBe(0);
});

test("pool, volume and snapshot listings whose callback fails free every handle too", () => {
  const c = ffi.openConnection(lv, "test:///default");
  const pools = [0, 1].map((i) => ffi.definePool(c, poolXml(i)));
  const d = ffi.defineDomain(c, domainXml(9));
  try {
    let seen = 0;
    const failOnFirst = () => {
      seen++;
      throw new Error("read failed");
    };
    expect(() => ffi.forEachPool(c, 0, failOnFirst)).toThrow("read failed");
    expect(() => ffi.withAllDomains(c, 0, () => failOnFirst())).toThrow("read failed");
    expect(seen).toBe(2);
    ffi.withPoolNamed(c, "default-pool", (p) => {
      const vols = [0, 1].map((i) => ffi.createVolume(c, p, `<volume><name>lq14b-list-${process.pid}-${i}.img</name><capacity>1024</capacity></volume>`));
      try {
        expect(() => ffi.forEachVolume(c, p, failOnFirst)).toThrow("read failed");
      } finally {
        for (const path of vols) ffi.deleteVolumeByPath(c, path);
      }
    });
    expect(seen).toBe(3);
    for (const name of ["a", "b"]) ffi.freeSnapshot(c, ffi.createSnapshot(c, d, `<domainsnapshot><name>${name}</name></domainsnapshot>`, 0));
    expect(
      ffi
        .listSnapshots(c, d)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["a", "b"]);
  } finally {
    ffi.undefineDomain(c, d, ffi.UNDEFINE.SNAPSHOTS_METADATA);
    ffi.freeDomain(c, d);
    for (const p of pools) {
      ffi.undefinePool(c, p);
      ffi.freePool(c, p);
    }
  }
  expect(ffi.closeConnection(c)).toBe(0);
});
