// The libvirt reads one GetVMStatus needs (state, inactive XML parsed, snapshots, stats), made
// by hand on the calling thread: the "direct libvirt call" the daemon's added latency is
// measured against, in the tests and in bench/.

import { parseDomainXml } from "../../src/hypervisor/libvirt/domain-xml/index.ts";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";

export function readStatusByHand(c: ffi.Connection, id: string): void {
  ffi.withDomain(c, id, (d) => {
    ffi.domainState(c, d);
    parseDomainXml(ffi.domainXml(c, d, ffi.DOMAIN_XML.INACTIVE));
    ffi.snapshotCount(c, d);
    ffi.currentSnapshotName(c, d);
    ffi.oneDomainStats(c, d);
  });
}
