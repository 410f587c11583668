// "No VM" and "no snapshot" (and pool, volume...) told apart by libvirt's error code, on both
// sides of the Worker boundary, never by the message text (which changes between libvirt
// versions and drivers).

import { expect, test } from "bun:test";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { libvirtCodeOf, missingObject, VIR_ERR } from "../../../src/hypervisor/libvirt/ffi/error-codes.ts";
import { fromWireError, toWireError } from "../../../src/hypervisor/libvirt/protocol.ts";

const lv = ffi.loadLibvirt();

const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
};

test("libvirt's own failures say what is missing, also after crossing from a Worker", () => {
  const c = ffi.openConnection(lv, "test:///default");
  try {
    const noVm = caught(() => ffi.lookupDomain(c, "5a1b0c2d-14b0-4000-8000-0000000000ee"));
    const d = ffi.lookupDomainByName(c, "test");
    if (d === null) throw new Error("the test driver's domain is missing");
    const noSnapshot = caught(() => ffi.withSnapshot(c, d, "lq14b-none", () => undefined));
    ffi.freeDomain(c, d);
    const noPool = ffi.lookupPoolByName(c, "lq14b-none");
    expect(noPool).toBeNull();
    for (const [err, what, code] of [
      [noVm, "domain", VIR_ERR.NO_DOMAIN],
      [noSnapshot, "snapshot", VIR_ERR.NO_DOMAIN_SNAPSHOT],
    ] as const) {
      expect(libvirtCodeOf(err)).toBe(code);
      expect(missingObject(err)).toBe(what);
      // What the API thread gets from the Worker carries the code as libvirtCode.
      const crossed = fromWireError(toWireError(err));
      expect(libvirtCodeOf(crossed)).toBe(code);
      expect(missingObject(crossed)).toBe(what);
    }
  } finally {
    ffi.closeConnection(c);
  }
});

test("errors without a libvirt code are nothing missing", () => {
  expect(missingObject(new Error("x"))).toBeUndefined();
  expect(missingObject(Object.assign(new Error("enoent"), { code: "ENOENT" }))).toBeUndefined();
  expect(missingObject({ code: VIR_ERR.OPERATION_INVALID })).toBeUndefined();
  expect(missingObject({ libvirtCode: VIR_ERR.NO_STORAGE_VOL })).toBe("volume");
});
