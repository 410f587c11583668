// Keeps one agent connection per running VM, driven by the hypervisor's lifecycle events (no
// periodic scan): a VM that starts gets a connection (retried with backoff while its socket
// cannot be reached), an agent that answers is pinged on an interval, a VM that stops loses its
// connection and its cached facts. A connection the guest has not answered on yet is held open
// without pings: QEMU keeps what the host wrote until the guest opens its port, so the one ping
// written on connecting, or the AgentReady the agent sends when it starts, tells the moment the
// agent is up (a booting or rebooting guest, one without an agent) at no cost while it is not. AgentReady and Telemetry keep each VM's GuestFacts current (guest-facts.ts);
// the agent answering or falling silent becomes an agent_connected / agent_disconnected event.
// RPCs reach the guest through guest-requests.ts, which calls in here: requests connect on
// demand and are written in call order (call-order.ts).

import type { AgentMessage } from "../gen/limiquantix/agent/v1/agent_pb.ts";
import { HypervisorError } from "../hypervisor/errors.ts";
import type { Hypervisor, HypervisorEvent, VmState } from "../hypervisor/types.ts";
import type { BackoffOptions } from "../common/backoff.ts";
import type { Logger } from "../common/logger.ts";
import { sleep } from "../common/sleep.ts";
import { type AgentConnection, openAgentConnection } from "./agent-connection.ts";
import type { AgentManager } from "./agent-manager-api.ts";
import { createCallOrder } from "./call-order.ts";
import { applyAgentEvent, emptyFacts } from "./guest-facts.ts";
import { type AgentCall, guestRequests } from "./guest-requests.ts";
import { AGENT_RETRY_BACKOFF, agentRetryDelayMs, watchSocketDir } from "./reconnect.ts";
import { findAgentSocket } from "./socket-path.ts";
import type { GuestFacts } from "./types.ts";

export { type AgentManager, type BeforeWrite, disabledAgentManager, type ShutdownKind } from "./agent-manager-api.ts";

export interface AgentManagerOptions {
  socketDir: string;
  /** libvirt's own channel folders, searched for domains the node did not define. */
  channelRoots?: readonly string[];
  hypervisor: Pick<Hypervisor, "onEvent" | "listVms">;
  /** agent_connected / agent_disconnected. */
  emit: (event: HypervisorEvent) => void;
  log: Logger;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** Requests without a timeout of their own (file chunks, shutdown, ping RPC). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect delays while a running VM's agent does not answer. */
  backoff?: BackoffOptions;
  random?: () => number;
}

/** States whose QEMU process holds the channel; the agent is reached only while running. */
const HAS_CHANNEL: ReadonlySet<VmState> = new Set(["running", "paused", "shutting_down", "migrating"]);

interface VmAgent {
  id: string;
  name?: string;
  /** The VM runs: keep a connection and reconnect when it drops. */
  wanted: boolean;
  conn?: AgentConnection;
  connecting?: Promise<AgentConnection>;
  /** The guest has sent something on the current connection. */
  answering: boolean;
  facts?: GuestFacts;
  attempt: number;
  retry?: ReturnType<typeof setTimeout>;
  pinger?: ReturnType<typeof setInterval>;
  pinging: boolean;
}

export function createAgentManager(opts: AgentManagerOptions): AgentManager {
  const pingIntervalMs = opts.pingIntervalMs ?? 30_000;
  const pingTimeoutMs = opts.pingTimeoutMs ?? 5_000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const backoff = opts.backoff ?? AGENT_RETRY_BACKOFF;
  const random = opts.random ?? Math.random;
  const log = opts.log;
  const vms = new Map<string, VmAgent>();
  const order = createCallOrder();
  let unsubscribe: (() => void) | undefined;
  let unwatchDir: (() => void) | undefined;
  let closed = false;

  function record(id: string): VmAgent {
    let vm = vms.get(id);
    if (!vm) {
      vm = { id, wanted: false, answering: false, attempt: 0, pinging: false };
      vms.set(id, vm);
    }
    return vm;
  }

  function setAnswering(vm: VmAgent, answering: boolean, why: string) {
    if (vm.answering === answering) return;
    vm.answering = answering;
    if (vm.facts) vm.facts.connected = answering;
    if (answering) startPinger(vm);
    else stopPinger(vm);
    log.info(`agent of vm ${vm.id} ${answering ? "connected" : `disconnected: ${why}`}`);
    opts.emit({
      type: answering ? "agent_connected" : "agent_disconnected",
      vmId: vm.id,
      ...(vm.name ? { vmName: vm.name } : {}),
      message: answering
        ? `the guest agent of vm ${vm.name ?? vm.id} answers${vm.facts?.version ? ` (version ${vm.facts.version})` : ""}`
        : `the guest agent of vm ${vm.name ?? vm.id} stopped answering: ${why}`,
    });
  }

  function onMessage(vm: VmAgent, conn: AgentConnection, message: AgentMessage) {
    if (vm.conn !== conn) return;
    vm.facts ??= emptyFacts();
    vm.facts.lastSeen = new Date();
    if (message.payload.case === "error") {
      const e = message.payload.value;
      log.warn(`agent of vm ${vm.id} reports ${e.code}: ${e.message}`);
    } else applyAgentEvent(vm.facts, message);
    vm.attempt = 0;
    setAnswering(vm, true, "");
  }

  async function openOnce(vm: VmAgent): Promise<AgentConnection> {
    const path = findAgentSocket(opts.socketDir, vm.id, opts.channelRoots);
    if (!path)
      throw new HypervisorError(
        "unavailable",
        `Agent socket not found for vm ${vm.id}: the VM is not running, or was defined without the Quantix agent channel`,
      );
    const conn = await openAgentConnection(path, connectTimeoutMs, {
      onFrame: (m) => onMessage(vm, conn, m),
      onClose: (reason) => {
        if (vm.conn !== conn) return;
        vm.conn = undefined;
        setAnswering(vm, false, reason);
        if (vm.wanted && !closed) scheduleRetry(vm);
      },
    });
    if (closed) {
      conn.close("the agent manager is closed");
      throw new HypervisorError("unavailable", "the agent manager is closed");
    }
    vm.conn = conn;
    return conn;
  }

  /** On demand: up to 3 attempts, 500 ms then 1 s apart (contract 4.2). */
  async function connection(id: string): Promise<AgentConnection> {
    if (closed) throw new HypervisorError("unavailable", "the agent manager is closed");
    const vm = record(id);
    if (vm.conn && !vm.conn.closed) return vm.conn;
    if (vm.connecting) return vm.connecting;
    vm.connecting = (async () => {
      let last: unknown;
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) await sleep(500 * 2 ** (attempt - 1));
        try {
          const conn = await openOnce(vm);
          afterConnect(conn);
          return conn;
        } catch (err) {
          last = err;
        }
      }
      throw last;
    })().finally(() => {
      vm.connecting = undefined;
    });
    return vm.connecting;
  }

  function afterConnect(conn: AgentConnection) {
    // Sequence 1 asks the guest for a telemetry report now: the facts fill in without waiting.
    // Unanswered, it stays queued in QEMU until the guest's agent opens its port and answers it.
    conn.call({ case: "ping", value: { sequence: 1n } }, "pong", pingTimeoutMs).catch(() => undefined);
  }

  /** The pinger runs exactly while the agent answers (setAnswering starts and stops it). */
  function startPinger(vm: VmAgent) {
    stopPinger(vm);
    vm.pinger = setInterval(() => void pingOnce(vm), pingIntervalMs);
    (vm.pinger as { unref?: () => void }).unref?.();
  }

  function stopPinger(vm: VmAgent) {
    if (vm.pinger) clearInterval(vm.pinger);
    vm.pinger = undefined;
  }

  async function pingOnce(vm: VmAgent) {
    const conn = vm.conn;
    if (!conn || conn.closed || vm.pinging) return;
    vm.pinging = true;
    const heard = conn.received();
    try {
      await conn.call({ case: "ping", value: { sequence: 0n } }, "pong", pingTimeoutMs);
    } catch (err) {
      // An agent that answered falls silent (rebooting, agent gone): drop the connection, failing
      // what is in flight; onClose reconnects (the schedule starts over: the guest just answered)
      // and the new connection waits for the agent, unpinged. A guest that sent anything
      // meanwhile (telemetry, other replies) is alive, only slow (a loaded host): its connection
      // and requests stay.
      if (vm.conn === conn && conn.received() === heard) conn.close(`no answer to a ping: ${(err as Error).message}`);
    } finally {
      vm.pinging = false;
    }
  }

  function scheduleRetry(vm: VmAgent) {
    if (vm.retry || closed || !vm.wanted) return;
    const delay = agentRetryDelayMs(vm.attempt++, random, backoff);
    vm.retry = setTimeout(() => {
      vm.retry = undefined;
      if (!vm.wanted || closed || (vm.conn && !vm.conn.closed)) return;
      connection(vm.id).catch((err) => {
        log.debug(`agent of vm ${vm.id}: ${(err as Error).message}`);
        scheduleRetry(vm);
      });
    }, delay);
  }

  /** Something changed that may let the agent answer now: start the schedule over. */
  function retryNow(vm: VmAgent) {
    if (!vm.wanted || closed || vm.connecting || (vm.conn && !vm.conn.closed)) return;
    if (vm.retry) clearTimeout(vm.retry);
    vm.retry = undefined;
    vm.attempt = 0;
    connection(vm.id).catch(() => scheduleRetry(vm));
  }

  function watch(id: string, name?: string) {
    const vm = record(id);
    if (name) vm.name = name;
    if (vm.wanted) return;
    vm.wanted = true;
    vm.attempt = 0;
    vm.facts ??= emptyFacts();
    connection(id).catch(() => scheduleRetry(vm));
  }

  function unwatch(id: string, why: string, forget: boolean) {
    const vm = vms.get(id);
    if (!vm) return;
    vm.wanted = false;
    if (vm.retry) clearTimeout(vm.retry);
    vm.retry = undefined;
    const conn = vm.conn;
    vm.conn = undefined;
    conn?.close(why);
    setAnswering(vm, false, why);
    vm.facts = undefined;
    if (forget) vms.delete(id);
  }

  function onHypervisorEvent(e: HypervisorEvent) {
    if (!e.vmId || closed) return;
    if (e.type === "vm_deleted") return unwatch(e.vmId, "the VM was deleted", true);
    if (e.type !== "vm_state_changed" || e.state === undefined) return;
    if (e.state === "running") {
      const vm = vms.get(e.vmId);
      if (vm?.wanted) retryNow(vm);
      else watch(e.vmId, e.vmName);
    } else if (!HAS_CHANNEL.has(e.state)) unwatch(e.vmId, `the VM is ${e.state}`, false);
  }

  /**
   * Takes the request's turn at once, then runs `before` and connects; writes when the turns
   * before it have written. The reply is awaited outside the turn: requests do not wait for
   * each other's replies.
   */
  const call: AgentCall = async (id, request, reply, timeoutMs, signal, before) => {
    const turn = order.take(id);
    try {
      await before?.();
      const conn = await connection(id);
      await turn.ready();
      const answer = conn.call(request, reply, timeoutMs, signal);
      turn.done();
      return await answer;
    } finally {
      turn.done();
    }
  };

  return {
    async start() {
      unsubscribe = opts.hypervisor.onEvent(onHypervisorEvent);
      unwatchDir = watchSocketDir(
        opts.socketDir,
        (id) => {
          const vm = vms.get(id);
          if (vm) retryNow(vm);
        },
        log,
      );
      // Catch up with VMs already running (daemon restart): events only tell what changes.
      const running = await opts.hypervisor.listVms({ states: ["running"] }).catch((err) => {
        log.warn("agent manager: cannot list running VMs", err);
        return [];
      });
      for (const vm of running) watch(vm.id, vm.name);
    },
    close() {
      closed = true;
      unsubscribe?.();
      unwatchDir?.();
      for (const id of [...vms.keys()]) unwatch(id, "the daemon is stopping", true);
    },
    facts(id) {
      const f = vms.get(id)?.facts;
      return f && (f.connected || f.lastSeen) ? { ...f } : undefined;
    },
    connected: (id) => vms.get(id)?.answering === true,
    ...guestRequests(call, requestTimeoutMs),
    stats() {
      let connections = 0;
      let pending = 0;
      for (const vm of vms.values()) {
        if (vm.conn && !vm.conn.closed) {
          connections++;
          pending += vm.conn.pending();
        }
      }
      return { connections, pending: pending + order.size() };
    },
  };
}
