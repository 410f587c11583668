// What a call Worker can do, one entry per request. Each op does all of its libvirt calls in
// one go (lookup, act, read back, free) so the API thread pays one message round trip. Only
// plain data goes in and out; domain handles never leave the Worker.

import type { Pointer } from "bun:ffi";
import * as ffi from "./ffi/index.ts";
import { HypervisorError } from "../errors.ts";
import { createStorageOps } from "./storage-ops.ts";
import { figuresOf, figuresWithSize, type KnownSize, type VmFigures } from "./vm-figures.ts";
import { LIBVIRT_STATE } from "./state-map.ts";

export interface RawDomain {
  uuid: string;
  name: string;
  xml: string;
  state: number;
  reason: number;
  snapshotCount: number;
  currentSnapshot?: string;
  /** Bulk-stats parameters; absent when libvirt gave none. */
  stats?: Record<string, ffi.TypedValue>;
}

export interface HostFacts {
  driverType: string;
  hypervisorVersion: number;
  libVersion: number;
  uri: string;
  hostname: string;
  capabilitiesXml: string;
  domainCapabilitiesXml?: string;
  maxVcpus?: number;
  memoryKib: number;
}

/** Undefine flags in the order tried: drivers reject flags they do not know (the test driver has no NVRAM). */
const UNDEFINE_ATTEMPTS = [
  ffi.UNDEFINE.MANAGED_SAVE | ffi.UNDEFINE.SNAPSHOTS_METADATA | ffi.UNDEFINE.NVRAM | ffi.UNDEFINE.CHECKPOINTS_METADATA,
  ffi.UNDEFINE.MANAGED_SAVE | ffi.UNDEFINE.SNAPSHOTS_METADATA | ffi.UNDEFINE.NVRAM,
  ffi.UNDEFINE.MANAGED_SAVE | ffi.UNDEFINE.SNAPSHOTS_METADATA,
];

function optional<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HypervisorError && (err.kind === "unsupported" || err.kind === "invalid_argument")) return undefined;
    throw err;
  }
}

/** A domain's defined size, or nothing (a domain undefined since the listing keeps its figures without it). */
function sizeOrNothing(c: ffi.Connection, d: Pointer): ffi.DomainSize | undefined {
  try {
    return ffi.sizeOfDomain(c, d);
  } catch (err) {
    if (err instanceof HypervisorError) return undefined;
    throw err;
  }
}

export function createOps(conn: () => ffi.Connection) {
  const withDom = <T>(uuid: string, fn: (c: ffi.Connection, d: Pointer) => T): T => {
    const c = conn();
    return ffi.withDomain(c, uuid, (d) => fn(c, d));
  };

  function rawDomain(c: ffi.Connection, d: Pointer, xmlFlags: number, stats?: Record<string, ffi.TypedValue>, known?: ffi.DomainState): RawDomain {
    const st = known ?? ffi.domainState(c, d);
    const raw: RawDomain = {
      uuid: ffi.domainUuid(c, d),
      name: ffi.domainName(c, d),
      xml: ffi.domainXml(c, d, xmlFlags),
      state: st.state,
      reason: st.reason,
      snapshotCount: optional(() => ffi.snapshotCount(c, d)) ?? 0,
    };
    const current = optional(() => ffi.currentSnapshotName(c, d));
    if (current !== undefined) raw.currentSnapshot = current;
    if (stats !== undefined) raw.stats = stats;
    return raw;
  }

  return {
    ping: (): boolean => ffi.isAlive(conn()),

    hostFacts(): HostFacts {
      const c = conn();
      const facts: HostFacts = {
        driverType: ffi.driverType(c),
        hypervisorVersion: ffi.hypervisorVersion(c),
        libVersion: ffi.daemonLibVersion(c),
        uri: ffi.canonicalUri(c),
        hostname: ffi.hostname(c),
        capabilitiesXml: ffi.capabilitiesXml(c),
        memoryKib: ffi.nodeInfo(c).memoryKib,
      };
      const dc = optional(() => ffi.domainCapabilitiesXml(c));
      if (dc !== undefined) facts.domainCapabilitiesXml = dc;
      const mv = optional(() => ffi.maxVcpus(c));
      if (mv !== undefined) facts.maxVcpus = mv;
      return facts;
    },

    /** One domain, with stats when it runs; xmlFlags pick the live/inactive, secure XML. */
    domain: (uuid: string, xmlFlags = 0): RawDomain =>
      withDom(uuid, (c, d) => {
        const st = ffi.domainState(c, d);
        const stats = st.state === LIBVIRT_STATE.SHUTOFF ? undefined : optional(() => ffi.oneDomainStats(c, d))?.params;
        return rawDomain(c, d, xmlFlags, stats, st);
      }),

    domains(xmlFlags = 0): RawDomain[] {
      const c = conn();
      const stats = new Map((optional(() => ffi.allDomainStats(c)) ?? []).map((r) => [r.uuid, r.params]));
      // Every handle is freed in one place, also when a read in the middle fails (libvirtd gone).
      return ffi.withAllDomains(c, 0, (doms) => {
        const out: RawDomain[] = [];
        for (const d of doms) {
          try {
            out.push(rawDomain(c, d, xmlFlags, stats.get(ffi.domainUuid(c, d))));
          } catch (err) {
            // A domain undefined between the listing and the read is simply gone.
            if (ffi.missingObject(err) !== "domain") throw err;
          }
        }
        return out;
      });
    },

    uuidByName(name: string): string | null {
      const c = conn();
      const d = ffi.lookupDomainByName(c, name);
      if (d === null) return null;
      try {
        return ffi.domainUuid(c, d);
      } finally {
        ffi.freeDomain(c, d);
      }
    },

    exists(uuid: string): boolean {
      try {
        return withDom(uuid, () => true);
      } catch (err) {
        if (ffi.missingObject(err) === "domain") return false;
        throw err;
      }
    },

    define(xml: string): string {
      const c = conn();
      const d = ffi.defineDomain(c, xml);
      try {
        return ffi.domainUuid(c, d);
      } finally {
        ffi.freeDomain(c, d);
      }
    },

    state: (uuid: string): ffi.DomainState => withDom(uuid, (c, d) => ffi.domainState(c, d)),
    start: (uuid: string): void => withDom(uuid, (c, d) => ffi.createDomain(c, d)),
    shutdown: (uuid: string): void => withDom(uuid, (c, d) => ffi.shutdownDomain(c, d)),
    destroy: (uuid: string): void => withDom(uuid, (c, d) => ffi.destroyDomain(c, d)),
    reboot: (uuid: string): void => withDom(uuid, (c, d) => ffi.rebootDomain(c, d)),
    suspend: (uuid: string): void => withDom(uuid, (c, d) => ffi.suspendDomain(c, d)),
    resume: (uuid: string): void => withDom(uuid, (c, d) => ffi.resumeDomain(c, d)),
    wake: (uuid: string): void => withDom(uuid, (c, d) => ffi.wakeDomain(c, d)),

    undefine: (uuid: string): void =>
      withDom(uuid, (c, d) => {
        for (const [i, flags] of UNDEFINE_ATTEMPTS.entries()) {
          try {
            ffi.undefineDomain(c, d, flags);
            return;
          } catch (err) {
            const last = i === UNDEFINE_ATTEMPTS.length - 1;
            if (last || !(err instanceof HypervisorError && (err.kind === "invalid_argument" || err.kind === "unsupported"))) throw err;
          }
        }
      }),

    /** Attaches a device; with metadata, our <lq:vm> element follows in the same round trip (same flags). */
    attach: (uuid: string, xml: string, flags: number, metadata?: { xml: string; prefix: string; ns: string }): void =>
      withDom(uuid, (c, d) => {
        ffi.attachDevice(c, d, xml, flags);
        if (metadata) ffi.setMetadataElement(c, d, metadata.xml, metadata.prefix, metadata.ns, flags);
      }),
    detach: (uuid: string, xml: string, flags: number): void => withDom(uuid, (c, d) => ffi.detachDevice(c, d, xml, flags)),

    /**
     * Takes a snapshot; with quiesce, the guest's filesystems are frozen through the QEMU guest
     * agent first and always thawed after, even when the snapshot fails. A guest without an
     * agent that answers gets a crash-consistent snapshot: `quiesced` says which it was and
     * `quiesceError` why not.
     */
    snapshotCreate: (uuid: string, xml: string, flags: number, quiesce = false): ffi.RawSnapshot & { quiesced: boolean; quiesceError?: string } =>
      withDom(uuid, (c, d) => {
        let frozen = false;
        let quiesceError: string | undefined;
        if (quiesce) {
          try {
            ffi.freezeFilesystems(c, d);
            frozen = true;
          } catch (err) {
            if (!(err instanceof HypervisorError)) throw err;
            quiesceError = err.message;
          }
        }
        try {
          const s = ffi.createSnapshot(c, d, xml, flags);
          try {
            const raw = { name: ffi.snapshotName(c, s), xml: ffi.snapshotXml(c, s), current: ffi.snapshotIsCurrent(c, s), quiesced: frozen };
            return quiesceError === undefined ? raw : { ...raw, quiesceError };
          } finally {
            ffi.freeSnapshot(c, s);
          }
        } finally {
          if (frozen) ffi.thawFilesystems(c, d);
        }
      }),
    /** One command to the domain's QEMU guest agent; its JSON answer. */
    qemuAgentCommand: (uuid: string, command: string, timeoutSeconds: number): string =>
      withDom(uuid, (c, d) => ffi.qemuAgentCommand(c, d, command, timeoutSeconds)),
    snapshots: (uuid: string): ffi.RawSnapshot[] => withDom(uuid, (c, d) => ffi.listSnapshots(c, d)),
    snapshotRevert: (uuid: string, name: string): void => withDom(uuid, (c, d) => ffi.withSnapshot(c, d, name, (s) => ffi.revertSnapshot(c, s))),
    snapshotDelete: (uuid: string, name: string): void => withDom(uuid, (c, d) => ffi.withSnapshot(c, d, name, (s) => ffi.deleteSnapshot(c, s))),

    ...createStorageOps(conn),

    /** Blocks this Worker until the migration ends: the pool gives it a Worker of its own. */
    migrate: (uuid: string, targetUri: string, flags: number, params: ffi.ParamValues): void =>
      withDom(uuid, (c, d) => ffi.migrateToUri(c, d, targetUri, flags, params)),
    jobStats: (uuid: string): ffi.JobStats => withDom(uuid, (c, d) => ffi.jobStats(c, d)),
    abortJob: (uuid: string): void => withDom(uuid, (c, d) => ffi.abortJob(c, d)),
    setMaxDowntime: (uuid: string, ms: number): void => withDom(uuid, (c, d) => ffi.setMaxDowntime(c, d, ms)),

    allStats: (): ffi.DomainStatsRecord[] => ffi.allDomainStats(conn()),
    /**
     * Every domain's figures from one bulk statistics call, parsed here: metrics ticks and
     * heartbeats. Sizes (vCPUs, memory) come from known, the API thread's copy per UUID, and are
     * read (one RPC each) for the domains it has none of this run of (vm-sizes.ts).
     */
    vmFigures: (known: Readonly<Record<string, KnownSize>> = {}): VmFigures[] => {
      const c = conn();
      return ffi.allDomainStats(c, ffi.METRICS_STATS, ffi.STATS_NOWAIT, (record) =>
        figuresWithSize(figuresOf(record), ffi.domainRunId(c, record.dom), known[record.uuid], () => sizeOrNothing(c, record.dom)),
      );
    },
  };
}

export type Ops = ReturnType<typeof createOps>;
export type OpName = keyof Ops;
