// The server-streaming RPCs: MigrateVM (progress until done), StreamMetrics (a sample every
// interval) and StreamEvents (every event, resumable). Each ends when the client cancels or
// the daemon shuts down, and releases its subscription either way.

import type { ServiceImpl } from "@connectrpc/connect";
import type { NodeDaemonService } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { knownEventType } from "../convert/enums.ts";
import { eventToWire, eventTypeOf } from "../convert/events.ts";
import { migrationProgressToWire } from "../convert/vm-status.ts";
import { invalidField } from "../errors.ts";
import type { MetricsTick, ServiceDeps } from "../deps.ts";
import { peerKey } from "../peer.ts";
import { toNodeMetrics, vmCounts } from "../convert/telemetry.ts";
import { guestAgentToWire } from "../convert/guest-agent.ts";
import { DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS } from "../../metrics/index.ts";
import { vmId } from "./vms.ts";
import { validateMigrationUri } from "../../hypervisor/validation.ts";

type Impl = Pick<ServiceImpl<typeof NodeDaemonService>, "migrateVM" | "streamMetrics" | "streamEvents">;

/** A metrics client that falls behind gets the newest samples; older ones are stale anyway. */
const METRICS_BACKLOG = 4;
/** Filters name at most this many VMs or event types. */
const MAX_FILTER_ITEMS = 1024;
/** Longest a migration may be allowed to pause the guest: ten minutes. */
const MAX_DOWNTIME_MS = 600_000;
/** 1 TiB/s: beyond any link; larger values are typos. */
const MAX_BANDWIDTH_MIB_PER_S = 1024 * 1024;
/**
 * A subscriber cut off for falling behind gets this long to read what is in flight and receive
 * RESOURCE_EXHAUSTED with a resume hint; one that stopped reading altogether is then reset at
 * the transport (its stream is stuck on flow control and could never deliver the status).
 */
export const CUT_OFF_GRACE_MS = 1000;

function filterIds(ids: string[], field: string): Set<string> | undefined {
  if (ids.length > MAX_FILTER_ITEMS) throw invalidField(field, `at most ${MAX_FILTER_ITEMS} entries are allowed, got ${ids.length}`);
  return ids.length ? new Set(ids.map((v, i) => vmId(v, `${field}[${i}]`))) : undefined;
}

export function streamHandlers(deps: ServiceDeps & { shutdown: AbortSignal }): Impl {
  const hv = deps.hypervisor;
  const until = (callSignal: AbortSignal) => AbortSignal.any([callSignal, deps.shutdown]);

  return {
    async *migrateVM(req, ctx) {
      const id = vmId(req.vmId);
      const targetUri = validateMigrationUri(req.targetNodeUri, "target_node_uri").href;
      if (req.maxDowntimeMs > MAX_DOWNTIME_MS) {
        throw invalidField("max_downtime_ms", `must be at most ${MAX_DOWNTIME_MS} (0 lets the hypervisor choose), got ${req.maxDowntimeMs}`);
      }
      if (req.bandwidthMibPerS > BigInt(MAX_BANDWIDTH_MIB_PER_S)) {
        throw invalidField("bandwidth_mib_per_s", `must be at most ${MAX_BANDWIDTH_MIB_PER_S} (0 means unlimited), got ${req.bandwidthMibPerS}`);
      }
      const progress = hv.migrateVm(
        id,
        {
          targetUri,
          live: req.live,
          ...(req.maxDowntimeMs ? { maxDowntimeMs: req.maxDowntimeMs } : {}),
          ...(req.bandwidthMibPerS ? { bandwidthMibPerS: Number(req.bandwidthMibPerS) } : {}),
          copyStorage: req.storage,
        },
        ctx.signal,
      );
      for await (const p of progress) yield migrationProgressToWire(p);
    },

    async *streamMetrics(req, ctx) {
      const interval = req.intervalMs || req.intervalSeconds * 1000 || DEFAULT_INTERVAL_MS;
      if (interval < MIN_INTERVAL_MS || interval > MAX_INTERVAL_MS) {
        const field = req.intervalMs ? "interval_ms" : "interval_seconds";
        throw invalidField(
          field,
          `the interval must be between ${MIN_INTERVAL_MS} ms and ${MAX_INTERVAL_MS} ms (0 means ${DEFAULT_INTERVAL_MS} ms), got ${interval} ms`,
        );
      }
      const wanted = filterIds(req.vmIds, "vm_ids");
      const signal = until(ctx.signal);
      const backlog: MetricsTick[] = [];
      let wake: (() => void) | undefined;
      // A sampling failure ends the stream with it (logged by the server), never a silent stall.
      let failure: { err: unknown } | undefined;
      const unsubscribe = deps.metrics.subscribe(
        interval,
        (tick) => {
          backlog.push(tick);
          if (backlog.length > METRICS_BACKLOG) backlog.shift();
          wake?.();
        },
        (err) => {
          failure ??= { err };
          wake?.();
        },
      );
      const onAbort = () => wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        while (!signal.aborted) {
          if (failure !== undefined) throw failure.err;
          const tick = backlog.shift();
          if (!tick) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          const counts = vmCounts(tick.vms);
          const vms = req.nodeOnly ? [] : wanted ? tick.vms.filter((v) => wanted.has(v.vmId)) : tick.vms;
          const metrics = toNodeMetrics({ host: tick.host, vms, vmsMeasured: tick.vmsError === undefined }, counts);
          // The guest's own view of itself, where its agent reports one.
          for (const m of metrics.vms) {
            const facts = deps.agents?.facts(m.vmId);
            if (facts) m.guestAgent = guestAgentToWire(facts);
          }
          yield metrics;
        }
      } finally {
        unsubscribe();
        signal.removeEventListener("abort", onAbort);
      }
    },

    async *streamEvents(req, ctx) {
      const vmIds = filterIds(req.vmIds, "vm_ids");
      if (req.types.length > MAX_FILTER_ITEMS) {
        throw invalidField("types", `at most ${MAX_FILTER_ITEMS} entries are allowed, got ${req.types.length}`);
      }
      req.types.forEach((t, i) => {
        if (!knownEventType(t)) throw invalidField(`types[${i}]`, `unknown event type ${t}`);
      });
      const types = req.types.length ? new Set(req.types) : undefined;
      if (req.afterSequence > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw invalidField("after_sequence", `must be at most ${Number.MAX_SAFE_INTEGER}, got ${req.afterSequence}`);
      }
      if (req.fromOldest && req.afterSequence > 0n) throw invalidField("from_oldest", "give either from_oldest or after_sequence, not both");
      const peer = ctx.values.get(peerKey);
      let grace: ReturnType<typeof setTimeout> | undefined;
      const events = deps.events.subscribe({
        ...(req.fromOldest ? { fromOldest: true } : { afterId: Number(req.afterSequence) }),
        signal: until(ctx.signal),
        filter: (e) => (!vmIds || (e.vmId !== undefined && vmIds.has(e.vmId))) && (!types || types.has(eventTypeOf(e))),
        // Runs while this generator is suspended in `yield` (its reader is not asking for more).
        onCutOff: () => {
          grace = setTimeout(() => peer?.cutOff(), CUT_OFF_GRACE_MS);
          grace.unref?.();
        },
      });
      try {
        for await (const e of events) yield eventToWire(e);
      } finally {
        clearTimeout(grace);
      }
    },
  };
}
