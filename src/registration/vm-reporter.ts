// Keeps the control plane's picture of this node's VMs current (contract 6.2): after each
// registration SyncNodeVMs, then SyncFullState; NotifyVMChange for every change the VM source
// pushes; the state hash for heartbeats. Notifications go out on their own worker, so a heartbeat
// never waits for them, and wait in a bounded queue while the control plane does not answer.
// Nothing here throws: a failed call is logged (optional-rpcs.ts) and the node carries on.
import type { CallOptions, Client } from "@connectrpc/connect";
import type { NodeService } from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import type { Logger } from "../common/logger.ts";
import type { StoragePoolReport } from "./messages.ts";
import { createNotifyQueue } from "./notify-queue.ts";
import { createOptionalRpcs, type Failure, type OptionalRpc } from "./optional-rpcs.ts";
import { reason } from "./reason.ts";
import type { NodeVm, NodeVmSource } from "./types.ts";
import { buildSyncFullStateRequest, buildSyncNodeVmsRequest, buildVmChangeNotification, type HostInfoInput } from "./vm-messages.ts";
import { createVmTracker, type VmChangeEvent } from "./vm-tracker.ts";

/** A registered node's way to its control plane; the signal ends when the registrar stops. */
export interface ControlPlaneLink {
  client: Client<typeof NodeService>;
  nodeId: string;
  signal: AbortSignal;
}

export interface VmReporterDeps {
  vms: NodeVmSource;
  log: Logger;
  now: () => Date;
  /** For SyncFullState's host_info; may reject (then the sync is owed to the next heartbeat). */
  hostInfo: () => Promise<HostInfoInput>;
  storagePools: () => readonly StoragePoolReport[];
  callTimeoutMs: number;
  /** VMs with a change waiting for NotifyVMChange; beyond it the oldest is dropped. */
  queueLimit?: number;
}

export interface VmReporter {
  /** Subscribes to the VM source. */
  start(): void;
  /** Unsubscribes and waits for a notification in flight (end the link's signal first). */
  stop(): Promise<void>;
  /** RegisterNode succeeded: the full picture, then notifications flow. */
  registered(link: ControlPlaneLink): Promise<void>;
  /** UpdateHeartbeat succeeded: a sync owed or asked for, then notifications flow. */
  heartbeatAnswered(link: ControlPlaneLink, requestFullSync: boolean): Promise<void>;
  /** A call to the control plane failed: notifications wait for the next answer. */
  unreachable(): void;
  /** Contract 6.5 over the VMs as last reported. */
  stateHash(): string;
}

export const defaultQueueLimit = 64;

export function createVmReporter(deps: VmReporterDeps): VmReporter {
  const { log, now } = deps;
  const limit = deps.queueLimit ?? defaultQueueLimit;
  const rpcs = createOptionalRpcs(log, now);
  const tracker = createVmTracker();
  const queue = createNotifyQueue(limit);
  let online: ControlPlaneLink | undefined;
  let worker: Promise<void> | undefined;
  let unsubscribe: (() => void) | undefined;
  // Bumped by every sync: an event taken from the queue before it is stale after it.
  let generation = 0;
  // A sync the control plane could not take now (unreachable, overloaded, VMs not listable).
  let owed: "register" | "full" | undefined;
  let dropLogged = false;
  let listFailing = false;

  async function attempt<T>(rpc: OptionalRpc, link: ControlPlaneLink, send: (o: CallOptions) => Promise<T>): Promise<T | Failure> {
    try {
      return await send({ signal: link.signal, timeoutMs: deps.callTimeoutMs });
    } catch (err) {
      // Stopping: nothing to log, nothing to retry.
      if (link.signal.aborted) return "drop";
      return rpcs.failed(rpc, err);
    }
  }

  function noteDropped() {
    if (dropLogged) return;
    dropLogged = true;
    log.warn(`VM changes for more than ${limit} VMs are waiting for the control plane; dropping the oldest (the next full sync corrects what it missed)`);
  }

  function enqueue(event: VmChangeEvent) {
    if (!rpcs.supported("NotifyVMChange")) return;
    if (queue.push(event) !== undefined) noteDropped();
    kick();
  }

  function kick() {
    if (worker !== undefined || online === undefined || online.signal.aborted || queue.size === 0) return;
    worker = drain().finally(() => {
      worker = undefined;
      kick();
    });
  }

  async function drain() {
    for (;;) {
      const link = online;
      if (link === undefined || link.signal.aborted) return;
      const event = queue.shift();
      if (event === undefined) {
        dropLogged = false;
        return;
      }
      const taken = generation;
      const result = await attempt("NotifyVMChange", link, (o) => link.client.notifyVMChange(buildVmChangeNotification(link.nodeId, event), o));
      if (result === "unsupported") {
        queue.clear();
        return;
      }
      if (result === "retry") {
        if (taken === generation && queue.putBack(event) !== undefined) noteDropped();
        // Until the next heartbeat answers: at most one retry per interval, never a hot loop.
        online = undefined;
        return;
      }
      if (result === "drop") continue;
      if (result.error !== "") rpcs.failed("NotifyVMChange", new Error(`control plane refused: ${result.error}`));
      else log.debug(`NotifyVMChange ${event.type} ${event.vm.name || event.vm.id}: ${result.action || "acknowledged"}`);
    }
  }

  async function listVms(): Promise<NodeVm[] | undefined> {
    try {
      const vms = await deps.vms.list();
      listFailing = false;
      return vms;
    } catch (err) {
      const line = `cannot list VMs for the control plane: ${reason(err)}; trying again after the next heartbeat`;
      if (listFailing) log.debug(line);
      else log.warn(line);
      listFailing = true;
      return undefined;
    }
  }

  async function syncNodeVms(link: ControlPlaneLink, listed: NodeVm[]): Promise<Failure | undefined> {
    if (listed.length === 0 || !rpcs.supported("SyncNodeVMs")) return undefined;
    const result = await attempt("SyncNodeVMs", link, (o) => link.client.syncNodeVMs(buildSyncNodeVmsRequest(link.nodeId, listed), o));
    if (typeof result === "string") return result;
    log.info(`sent ${listed.length} VMs to the control plane: ${result.importedCount} imported, ${result.existingCount} already known`);
    if (result.errors.length > 0) {
      log.warn(`the control plane could not import ${result.errors.length} VMs: ${result.errors.join("; ")}`);
    }
    return undefined;
  }

  async function syncFullState(link: ControlPlaneLink, snapshot: ReturnType<typeof tracker.vms>): Promise<Failure | undefined> {
    if (!rpcs.supported("SyncFullState")) return undefined;
    let host: HostInfoInput;
    try {
      host = await deps.hostInfo();
    } catch (err) {
      log.warn(`cannot describe the host for SyncFullState: ${reason(err)}; trying again after the next heartbeat`);
      return "retry";
    }
    const request = buildSyncFullStateRequest({ nodeId: link.nodeId, host, vms: snapshot, storagePools: deps.storagePools() });
    const result = await attempt("SyncFullState", link, (o) => link.client.syncFullState(request, o));
    if (typeof result === "string") return result;
    log.info(
      `full state synced (${snapshot.length} VMs): ${result.vmsReconciled} reconciled, ${result.vmsDiscovered} discovered, ` +
        `${result.vmsLost} lost, ${result.conflicts.length} conflicts`,
    );
    for (const c of result.conflicts) log.debug(`sync conflict: ${c.resourceType} ${c.resourceId} ${c.conflictType}: ${c.message}`);
    return undefined;
  }

  /** SyncNodeVMs (after a registration) and SyncFullState from one listing of the VMs. */
  async function resync(link: ControlPlaneLink, afterRegister: boolean) {
    // The sync tells the control plane everything: queued changes are superseded, and new ones
    // must not overtake it, so notifications pause until the caller goes online again.
    online = undefined;
    owed = undefined;
    generation++;
    queue.clear();
    tracker.beginResync();
    const listed = await listVms();
    const { snapshot, events } = tracker.endResync(listed, now());
    // Changes made while the listing was in flight, sent once the sync is through.
    for (const event of events) enqueue(event);
    if (listed === undefined || snapshot === undefined) {
      owed = afterRegister ? "register" : "full";
      return;
    }
    if (afterRegister && (await syncNodeVms(link, listed)) === "retry") {
      owed = "register";
      return;
    }
    if ((await syncFullState(link, snapshot)) === "retry") owed = "full";
  }

  function goOnline(link: ControlPlaneLink) {
    online = link;
    kick();
  }

  return {
    start() {
      unsubscribe ??= deps.vms.onChange((change) => {
        const event = tracker.apply(change, now());
        if (event !== undefined) enqueue(event);
      });
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      online = undefined;
      await worker;
    },
    async registered(link) {
      // The control plane may have been upgraded, or replaced: everything is worth a try again.
      rpcs.reset();
      await resync(link, true);
      goOnline(link);
    },
    async heartbeatAnswered(link, requestFullSync) {
      if (owed === "register") await resync(link, true);
      else if (owed === "full" || (requestFullSync && rpcs.supported("SyncFullState"))) await resync(link, false);
      goOnline(link);
    },
    unreachable() {
      online = undefined;
    },
    stateHash: () => tracker.hash(),
  };
}
