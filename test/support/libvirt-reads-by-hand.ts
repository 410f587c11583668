// The libvirt reads one GetVMStatus needs (state, inactive XML parsed, snapshots, stats), made
// by hand on the calling thread: the "direct libvirt call" the daemon's added latency is
// measured against, in the tests and in bench/.

import { parseDomainXml } from "../../src/hypervisor/libvirt/domain-xml/index.ts";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";

export function readStatusByHand(c: ffi.Connection, id: string): void {
  ffi.withDomain(c, id, (d) => {
    ffi.domainState(c, d);
    parseDomainXml(ffi.domainXml(c, d, ffi.DOMAIN_XML.INACTIVE));
    ffi.snapshotCount(c, d);
    ffi.currentSnapshotName(c, d);
    ffi.oneDomainStats(c, d);
  });
}

/**
 * getVm through the backend and the same reads by hand on this thread, back to back, n times:
 * the milliseconds of each, pair by pair (pairs cancel slow drifts of libvirt's own answer time).
 */
export async function pairedReadTimes(hv: Hypervisor, uri: string, id: string, n: number): Promise<{ byHand: number[]; backend: number[] }> {
  const c = ffi.openConnection(ffi.loadLibvirt(), uri);
  const byHand: number[] = [];
  const backend: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      readStatusByHand(c, id);
      byHand.push(performance.now() - t);
      t = performance.now();
      await hv.getVm(id);
      backend.push(performance.now() - t);
    }
  } finally {
    ffi.closeConnection(c);
  }
  return { byHand, backend };
}
