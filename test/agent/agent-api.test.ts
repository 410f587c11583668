// The guest agent end to end in the fast tier: a real in-process daemon (mock backend), a test
// double of the guest on the VM's agent socket, and every agent RPC, the REST calls and the
// access rules driven through real clients. The double also misbehaves: silence, garbage,
// partial frames, oversize frames, disconnects mid-request.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { EventType, NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { agentSocketPath } from "../../src/agent/socket-path.ts";
import { newVmId, startTestDaemon, type TestDaemon, waitFor } from "../support/daemon.ts";
import { GUEST_KERNEL, type GuestDouble, startGuestDouble } from "./guest-double.ts";

let t: TestDaemon;
let guest: GuestDouble;
let vmId: string;
let n = 0;
const rest = (path: string, init: RequestInit = {}, headers: Record<string, string> = {}) =>
  fetch(`https://127.0.0.1:${t.daemon.agentRest?.port}${path}`, { ...init, headers, tls: { rejectUnauthorized: false } } as RequestInit);

const body = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

function spec() {
  return {
    name: `agent-vm-${++n}`,
    spec: {
      cpuSockets: 1,
      cpuCores: 1,
      cpuThreadsPerCore: 1,
      memoryMib: 256n,
      disks: [{ id: "root", sizeGib: 1n, bootable: true }],
      nics: [],
      console: { vncEnabled: false },
    },
  };
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

async function runningVmWithGuest(): Promise<{ id: string; double: GuestDouble }> {
  const id = newVmId();
  const double = await startGuestDouble(agentSocketPath(t.config.agent.socketDir, id));
  await t.grpc.createVM({ vmId: id, ...spec(), start: true });
  await waitFor("the agent to connect", async () => (await t.grpc.getVMStatus({ vmId: id })).guestAgent?.connected === true);
  return { id, double };
}

beforeAll(async () => {
  t = await startTestDaemon((c) => {
    c.agent.requestTimeoutSecs = 1;
    c.agent.pingIntervalSecs = 1;
    c.agent.restListenAddress = "127.0.0.1:0";
  });
  ({ id: vmId, double: guest } = await runningVmWithGuest());
});

afterAll(async () => {
  await t.stop();
  await guest?.close();
});

describe("agent RPCs against the guest double", () => {
  test("PingAgent answers with the agent's version", async () => {
    const r = await t.grpc.pingAgent({ vmId });
    expect(r).toMatchObject({ connected: true, version: "0.1.27-double", uptimeSeconds: 42n, error: "" });
  });

  test("GetVMStatus carries the guest's facts in guest_agent (field 107), StreamMetrics too", async () => {
    await waitFor("telemetry", async () => (await t.grpc.getVMStatus({ vmId })).guestAgent?.resourceUsage !== undefined);
    const g = (await t.grpc.getVMStatus({ vmId })).guestAgent;
    expect(g).toMatchObject({ connected: true, hostname: "guest-double", kernelVersion: GUEST_KERNEL, osName: "Test Linux", ipAddresses: ["10.0.2.15"] });
    expect(g?.resourceUsage?.memoryUsedBytes).toBe(27n * 1024n * 1024n);
    // The first ticks may predate this VM's measurement on a busy machine: up to 5 ticks.
    const ac = new AbortController();
    let seen: string | undefined;
    let ticks = 0;
    for await (const m of t.grpc.streamMetrics({ intervalSeconds: 1 }, { signal: ac.signal })) {
      seen = m.vms.find((v) => v.vmId === vmId)?.guestAgent?.hostname;
      if (seen !== undefined || ++ticks >= 5) break;
    }
    ac.abort();
    expect(seen).toBe("guest-double");
  });

  test("agent connected is an event", async () => {
    const ac = new AbortController();
    for await (const e of t.grpc.streamEvents({ fromOldest: true, vmIds: [vmId] }, { signal: ac.signal })) {
      if (e.type === EventType.AGENT_CONNECTED) {
        expect(e.vmId).toBe(vmId);
        ac.abort();
        break;
      }
    }
  });

  test("ExecuteInGuest runs the command and reports its exit code", async () => {
    const r = await t.grpc.executeInGuest({ vmId, command: "uname -r" });
    expect(r).toMatchObject({ success: true, exitCode: 0, stdout: `${GUEST_KERNEL}\n`, timedOut: false });
    expect(await t.grpc.executeInGuest({ vmId, command: "false" })).toMatchObject({ success: false, exitCode: 1 });
    expect((await failure(t.grpc.executeInGuest({ vmId, command: "" }))).code).toBe(Code.InvalidArgument);
  });

  test("100 concurrent ExecuteInGuest calls are all answered, each with its own reply", async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => t.grpc.executeInGuest({ vmId, command: `echo ${i}` })));
    expect(replies.map((r) => r.stdout)).toEqual(Array.from({ length: 100 }, (_, i) => `${i}\n`));
  });

  test("WriteGuestFile sends 64 KiB chunks, ReadGuestFile reads them back byte for byte", async () => {
    const data = randomBytes(1024 * 1024);
    const before = guest.received.length;
    const w = await t.grpc.writeGuestFile({ vmId, path: "/tmp/one-mib", data, mode: 0o600 });
    expect(w).toMatchObject({ success: true, bytesWritten: BigInt(data.length) });
    const chunks = guest.received.slice(before).flatMap((m) => (m.payload.case === "fileWrite" ? [m.payload.value] : []));
    expect(chunks.length).toBe(16);
    expect(chunks.every((c) => c.data.length === 65536)).toBe(true);
    expect(chunks.map((c) => c.eof)).toEqual([...Array(15).fill(false), true]);
    expect(Buffer.from(guest.files.get("/tmp/one-mib") ?? [])).toEqual(data);
    const r = await t.grpc.readGuestFile({ vmId, path: "/tmp/one-mib" });
    expect(r).toMatchObject({ success: true, eof: true, totalSize: BigInt(data.length) });
    expect(Buffer.from(r.data)).toEqual(data);
    const part = await t.grpc.readGuestFile({ vmId, path: "/tmp/one-mib", offset: 100n, maxSize: 10n });
    expect(Buffer.from(part.data)).toEqual(data.subarray(100, 110));
    expect(part.eof).toBe(false);
    expect(await t.grpc.readGuestFile({ vmId, path: "/nope" })).toMatchObject({ success: false });
  });

  test("UploadGuestFile and DownloadGuestFile stream files in chunks", async () => {
    const data = randomBytes(300_000);
    async function* upload() {
      yield { vmId, path: "/tmp/streamed", data: data.subarray(0, 1000) };
      for (let at = 1000; at < data.length; at += 7000) yield { data: data.subarray(at, at + 7000) };
    }
    expect(await t.grpc.uploadGuestFile(upload())).toMatchObject({ success: true, bytesWritten: 300_000n });
    const parts: Uint8Array[] = [];
    for await (const c of t.grpc.downloadGuestFile({ vmId, path: "/tmp/streamed" })) parts.push(c.data);
    expect(parts.length).toBe(5);
    expect(Buffer.concat(parts)).toEqual(data);
  });

  test("GuestShutdown, QuiesceFilesystems, ThawFilesystems, SyncTime", async () => {
    expect(await t.grpc.guestShutdown({ vmId, reboot: true })).toMatchObject({ accepted: true });
    expect(guest.shutdowns.at(-1)).toBe("reboot");
    const q = await t.grpc.quiesceFilesystems({ vmId });
    expect(q).toMatchObject({ success: true, quiesceToken: "tok-1" });
    expect(q.frozen[0]).toMatchObject({ mountPoint: "/mnt/data", frozen: true });
    expect(guest.frozen).toBe(true);
    expect(await t.grpc.thawFilesystems({ vmId, quiesceToken: q.quiesceToken })).toMatchObject({ success: true, thawedMountPoints: ["/mnt/data"] });
    expect(guest.frozen).toBe(false);
    expect(await t.grpc.syncTime({ vmId })).toMatchObject({ success: true, timeSource: "host" });
  });

  test("CreateSnapshot with quiesce freezes through the agent and always thaws", async () => {
    const before = guest.received.length;
    const s = await t.grpc.createSnapshot({ vmId, name: "q1", quiesce: true });
    expect(s.quiesced).toBe(true);
    const kinds = guest.received
      .slice(before)
      .map((m) => m.payload.case)
      .filter((k) => k === "quiesce" || k === "thaw");
    expect(kinds).toEqual(["quiesce", "thaw"]);
    expect(guest.frozen).toBe(false);
    // A snapshot that fails (duplicate name) still thaws.
    const again = guest.received.length;
    await failure(t.grpc.createSnapshot({ vmId, name: "q1", quiesce: true }));
    expect(
      guest.received
        .slice(again)
        .map((m) => m.payload.case)
        .filter((k) => k === "quiesce" || k === "thaw"),
    ).toEqual(["quiesce", "thaw"]);
    expect(guest.frozen).toBe(false);
  });

  test("GetVMLogs by id and by name: a VM without a log answers an empty tail", async () => {
    const st = await t.grpc.getVMStatus({ vmId });
    for (const key of [vmId, st.name]) {
      const r = await t.grpc.getVMLogs({ vmId: key, lines: 5000 });
      expect(r).toMatchObject({ vmId, vmName: st.name, qemuLog: "", logSizeBytes: 0n, linesReturned: 0 });
    }
    expect((await failure(t.grpc.getVMLogs({ vmId: "no-such-vm" }))).code).toBe(Code.NotFound);
  });

  test("a VM that does not exist is NOT_FOUND; one that is stopped is FAILED_PRECONDITION", async () => {
    expect((await failure(t.grpc.executeInGuest({ vmId: newVmId(), command: "true" }))).code).toBe(Code.NotFound);
    const stopped = newVmId();
    await t.grpc.createVM({ vmId: stopped, ...spec() });
    expect((await failure(t.grpc.executeInGuest({ vmId: stopped, command: "true" }))).code).toBe(Code.FailedPrecondition);
    expect(await t.grpc.pingAgent({ vmId: stopped })).toMatchObject({ connected: false });
  });
});

describe("REST calls on the HTTPS listener (contract 5.2, rows 1-12)", () => {
  test("agent/ping and agent/refresh answer the cached facts", async () => {
    const ping = await body(rest(`/api/v1/vms/${vmId}/agent/ping`));
    expect(ping).toMatchObject({
      connected: true,
      version: "0.1.27-double",
      hostname: "guest-double",
      kernelVersion: GUEST_KERNEL,
      ipAddresses: ["10.0.2.15"],
      latestAgentVersion: "0.1.27",
    });
    expect(ping.resourceUsage).toMatchObject({ memoryTotalBytes: 256 * 1024 * 1024, processCount: 12 });
    const refresh = await rest(`/api/v1/vms/${vmId}/agent/refresh`, { method: "POST", body: "{}" });
    expect(refresh.status).toBe(200);
    expect((await body(refresh)).connected).toBe(true);
  });

  test("execute, files/list, files/read, shutdown, reboot, logs, agent/logs, qemu-agent/ping", async () => {
    const st = await t.grpc.getVMStatus({ vmId });
    const exec = await rest(`/api/v1/vms/${st.name}/execute`, { method: "POST", body: JSON.stringify({ command: "uname -r", timeoutSeconds: 999 }) });
    expect(await body(exec)).toMatchObject({ success: true, exitCode: 0, stdout: `${GUEST_KERNEL}\n`, timedOut: false });
    guest.files.set("/etc/hostname", new TextEncoder().encode("guest-double\n"));
    const read = await body(rest(`/api/v1/vms/${vmId}/agent/files/read?path=/etc/hostname`));
    expect(read).toMatchObject({ success: true, path: "/etc/hostname", sizeBytes: 13 });
    expect(Buffer.from(read.content, "base64").toString()).toBe("guest-double\n");
    const list = await body(rest(`/api/v1/vms/${vmId}/agent/files/list?path=/etc`));
    expect(list.success).toBe(true);
    expect(list.entries.some((e: { path: string }) => e.path === "/etc/hostname")).toBe(true);
    expect(await body(rest(`/api/v1/vms/${vmId}/agent/shutdown`, { method: "POST", body: "{}" }))).toMatchObject({ success: true });
    expect(guest.shutdowns.at(-1)).toBe("poweroff");
    expect(await body(rest(`/api/v1/vms/${vmId}/agent/reboot`, { method: "POST" }))).toMatchObject({ success: true });
    expect(guest.shutdowns.at(-1)).toBe("reboot");
    const logs = await body(rest(`/api/v1/vms/${vmId}/logs?lines=10`));
    expect(logs).toMatchObject({ vmId, vmName: st.name, qemuLog: "", logSizeBytes: 0, linesReturned: 0, lastModified: null });
    const agentLogs = await body(rest(`/api/v1/vms/${vmId}/agent/logs?lines=5`));
    expect(agentLogs.success).toBe(false);
    expect(await body(rest(`/api/v1/vms/${vmId}/qemu-agent/ping`))).toMatchObject({ available: false });
    const missing = await rest(`/api/v1/vms/${newVmId()}/agent/ping`);
    expect(missing.status).toBe(404);
    expect(await body(missing)).toMatchObject({ error: "vm_not_found" });
  });
});

describe("a misbehaving guest", () => {
  test("silence: PingAgent reports the timeout in error, the connection is dropped and comes back", async () => {
    const { id, double } = await runningVmWithGuest();
    double.mode = "silent";
    const r = await t.grpc.pingAgent({ vmId: id });
    expect(r.connected).toBe(false);
    expect(r.error).toContain("did not answer");
    const exec = await t.grpc.executeInGuest({ vmId: id, command: "true", timeoutSeconds: 1 }).catch((e) => e);
    expect(exec.timedOut ?? ConnectError.from(exec).code).toBeTruthy();
    double.mode = "normal";
    await waitFor("the agent to answer again", async () => (await t.grpc.pingAgent({ vmId: id })).connected, 10_000);
    await double.close();
  }, 30_000);

  test("garbage: over 64 KiB without a frame drops the connection; a sane guest is reconnected", async () => {
    const { id, double } = await runningVmWithGuest();
    const conns = double.connections();
    double.mode = "garbage";
    expect((await t.grpc.pingAgent({ vmId: id })).connected).toBe(false);
    double.mode = "normal";
    await waitFor("a new connection", async () => double.connections() > conns && (await t.grpc.pingAgent({ vmId: id })).connected, 10_000);
    await double.close();
  });

  test("partial frames written byte by byte are reassembled", async () => {
    const { id, double } = await runningVmWithGuest();
    double.mode = "partial";
    expect(await t.grpc.executeInGuest({ vmId: id, command: "echo partial" })).toMatchObject({ stdout: "partial\n" });
    await double.close();
  });

  test("an oversize frame is garbage: the request fails, the next guest answer gets through", async () => {
    const { id, double } = await runningVmWithGuest();
    double.mode = "oversize";
    expect((await t.grpc.pingAgent({ vmId: id })).connected).toBe(false);
    double.mode = "normal";
    await waitFor("the agent to answer again", async () => (await t.grpc.pingAgent({ vmId: id })).connected, 10_000);
    await double.close();
  });

  test("a disconnect mid-request fails the call UNAVAILABLE; the agent reconnects", async () => {
    const { id, double } = await runningVmWithGuest();
    double.mode = "disconnect";
    const err = await failure(t.grpc.executeInGuest({ vmId: id, command: "true" }));
    expect(err.code).toBe(Code.Unavailable);
    double.mode = "normal";
    await waitFor("the agent to answer again", async () => (await t.grpc.pingAgent({ vmId: id })).connected, 10_000);
    await double.close();
  });

  test("stopping the VM drops the connection and its facts, and says so in an event", async () => {
    const { id, double } = await runningVmWithGuest();
    await t.grpc.forceStopVM({ vmId: id });
    await waitFor("the facts to go", async () => (await t.grpc.getVMStatus({ vmId: id })).guestAgent === undefined);
    const ac = new AbortController();
    for await (const e of t.grpc.streamEvents({ fromOldest: true, vmIds: [id] }, { signal: ac.signal })) {
      if (e.type === EventType.AGENT_DISCONNECTED) {
        ac.abort();
        break;
      }
    }
    await double.close();
  });
});

describe("access control", () => {
  let locked: TestDaemon;
  let lockedVm: string;
  let lockedGuest: GuestDouble;
  const token = "s3cret-token-for-tests";

  beforeAll(async () => {
    locked = await startTestDaemon((c) => {
      c.agent.allowedCallers = ["10.9.9.0/24"];
      const file = join(c.node.stateDir, "token");
      writeFileSync(file, `${token}\n`);
      c.agent.bearerTokenFile = file;
      c.agent.restListenAddress = "127.0.0.1:0";
    });
    lockedVm = newVmId();
    lockedGuest = await startGuestDouble(agentSocketPath(locked.config.agent.socketDir, lockedVm));
    await locked.grpc.createVM({ vmId: lockedVm, ...spec(), start: true });
  });
  afterAll(async () => {
    await locked.stop();
    await lockedGuest.close();
  });

  test("a caller outside agent.allowed_callers gets PERMISSION_DENIED on every agent RPC, the rest of the API still answers", async () => {
    for (const call of [
      () => locked.grpc.pingAgent({ vmId: lockedVm }),
      () => locked.grpc.executeInGuest({ vmId: lockedVm, command: "uname -r" }),
      () => locked.grpc.readGuestFile({ vmId: lockedVm, path: "/etc/shadow" }),
      () => locked.grpc.writeGuestFile({ vmId: lockedVm, path: "/tmp/x", data: new Uint8Array(1) }),
      () => locked.grpc.getVMLogs({ vmId: lockedVm }),
      () => locked.grpc.guestShutdown({ vmId: lockedVm }),
    ]) {
      expect((await failure(call())).code).toBe(Code.PermissionDenied);
    }
    expect(lockedGuest.received.filter((m) => m.payload.case === "execute")).toEqual([]);
    expect((await locked.grpc.getVMStatus({ vmId: lockedVm })).vmId).toBe(lockedVm);
  });

  test("the bearer token lets a caller in from any address", async () => {
    const authed = createClient(
      NodeDaemonService,
      createGrpcTransport({ baseUrl: locked.baseUrl, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }),
    );
    await waitFor("the agent", async () => (await authed.pingAgent({ vmId: lockedVm })).connected);
    expect(await authed.executeInGuest({ vmId: lockedVm, command: "uname -r" })).toMatchObject({ stdout: `${GUEST_KERNEL}\n` });
    const wrong = createClient(
      NodeDaemonService,
      createGrpcTransport({ baseUrl: locked.baseUrl, interceptors: [(next) => (req) => (req.header.set("authorization", "Bearer nope"), next(req))] }),
    );
    expect((await failure(wrong.pingAgent({ vmId: lockedVm }))).code).toBe(Code.PermissionDenied);
  });

  test("REST answers 403 without the token and 200 with it", async () => {
    const url = `https://127.0.0.1:${locked.daemon.agentRest?.port}/api/v1/vms/${lockedVm}/execute`;
    const init = { method: "POST", body: JSON.stringify({ command: "uname -r" }), tls: { rejectUnauthorized: false } };
    const denied = await fetch(url, init as RequestInit);
    expect(denied.status).toBe(403);
    expect((await body(denied)).error).toBe("forbidden");
    const ok = await fetch(url, { ...init, headers: { authorization: `Bearer ${token}` } } as RequestInit);
    expect(ok.status).toBe(200);
    expect((await body(ok)).stdout).toBe(`${GUEST_KERNEL}\n`);
  });
});
