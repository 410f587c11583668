// Mutual TLS on the API listener with certificates made by openssl for this test: only a client
// holding a certificate the configured client CA signed gets in, everyone else is refused at the
// handshake (before any HTTP/2 byte); handlers see the verified certificate; SIGHUP-style reloads
// serve new certificates to new connections while the listener and open connections stay.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { copyFileSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import * as http2 from "node:http2";
import { join } from "node:path";
import * as tls from "node:tls";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { listen, type Listener } from "../../src/server/listener.ts";
import { peerOf } from "../../src/server/peer.ts";
import { newVmId, smallVm, startHarness, waitFor, type Harness } from "../reliability/harness.ts";
import { makePki, openssl, type Pki } from "./certs.ts";

let pki: Pki;
let h: Harness;

beforeAll(async () => {
  if (!openssl) return;
  pki = makePki();
  // The daemon reads these paths; the reload test overwrites them.
  copyFileSync(pki.path("server.crt"), pki.path("live.crt"));
  copyFileSync(pki.path("server.key"), pki.path("live.key"));
  h = await startHarness({
    tweak: (c) => {
      c.tls.enabled = true;
      c.tls.certPath = pki.path("live.crt");
      c.tls.keyPath = pki.path("live.key");
      c.tls.clientCaPath = pki.path("ca.crt");
    },
    nodeOptions: { ca: pki.read("ca.crt"), cert: pki.read("client.crt"), key: pki.read("client.key") },
  });
});

afterAll(async () => {
  await h?.stop();
  pki?.cleanup();
});

const client = (extra: Record<string, unknown>) =>
  createClient(NodeDaemonService, createGrpcTransport({ baseUrl: h.baseUrl, nodeOptions: { ca: pki.read("ca.crt"), ...extra } }));

interface Probe {
  handshakeCompleted: boolean;
  applicationBytes: number;
  error?: string;
  serverCn?: string;
}

/** A raw TLS connection offering h2: did the handshake finish, did any HTTP/2 byte come back? */
function probe(extra: tls.ConnectionOptions): Promise<Probe> {
  return new Promise((resolve) => {
    const result: Probe = { handshakeCompleted: false, applicationBytes: 0 };
    const socket = tls.connect({ host: "127.0.0.1", port: h.daemon.api.port, ca: pki.read("ca.crt"), ALPNProtocols: ["h2"], ...extra });
    socket.on("secureConnect", () => {
      result.handshakeCompleted = true;
      result.serverCn = String(socket.getPeerCertificate().subject?.CN ?? "");
      socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00");
    });
    socket.on("data", (b: Buffer) => {
      result.applicationBytes += b.length;
      socket.destroy();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => (result.error = e.code ?? e.message));
    socket.on("close", () => resolve(result));
    setTimeout(() => socket.destroy(), 1500).unref();
  });
}

const stranger = () => ({ cert: pki.read("stranger.crt"), key: pki.read("stranger.key") });
const valid = () => ({ cert: pki.read("client.crt"), key: pki.read("client.key") });

describe.skipIf(!openssl)("mutual TLS on the API listener", () => {
  test("a client without a certificate is refused at the handshake", async () => {
    const before = h.daemon.stats();
    const err = await client({})
      .healthCheck({}, { timeoutMs: 3000 })
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).rawMessage).toMatch(/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|socket|closed/i);

    // TLS 1.2 carries the refusal inside the handshake; 1.3 right after the client's Finished.
    const v12 = await probe({ maxVersion: "TLSv1.2" });
    expect(v12.handshakeCompleted).toBe(false);
    expect(v12.applicationBytes).toBe(0);
    const v13 = await probe({});
    expect(v13.applicationBytes).toBe(0);
    expect(v13.error).toMatch(/CERTIFICATE_REQUIRED/);
    expect(h.daemon.stats().tlsHandshakeFailures).toBeGreaterThanOrEqual(before.tlsHandshakeFailures + 3);
    expect(h.daemon.stats().sessions).toBe(before.sessions);
  });

  test("a client with a certificate from another CA (same CN) is refused at the handshake", async () => {
    const before = h.daemon.stats();
    const err = await client(stranger())
      .healthCheck({}, { timeoutMs: 3000 })
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    const viaJson = createClient(
      NodeDaemonService,
      createConnectTransport({ baseUrl: h.baseUrl, httpVersion: "1.1", nodeOptions: { ca: pki.read("ca.crt"), ...stranger() } }),
    );
    expect(
      await viaJson.healthCheck({}, { timeoutMs: 3000 }).then(
        () => "ok",
        () => "refused",
      ),
    ).toBe("refused");

    const v12 = await probe({ maxVersion: "TLSv1.2", ...stranger() });
    expect(v12.handshakeCompleted).toBe(false);
    expect(v12.applicationBytes).toBe(0);
    const v13 = await probe(stranger());
    expect(v13.applicationBytes).toBe(0); // not even the server's SETTINGS frame
    expect(h.daemon.stats().tlsHandshakeFailures).toBeGreaterThanOrEqual(before.tlsHandshakeFailures + 4);
    expect(h.daemon.stats().sessions).toBe(before.sessions);
  });

  test("a client with a valid certificate gets in over gRPC (HTTP/2) and Connect JSON (HTTP/1.1)", async () => {
    expect((await h.grpc.healthCheck({})).healthy).toBe(true);
    const id = newVmId();
    expect((await h.connect.createVM({ vmId: id, ...smallVm("mtls-vm") })).created).toBe(true);
    const res = await fetch(`${h.baseUrl}/limiquantix.node.v1.NodeDaemonService/GetVMStatus`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ vmId: id }),
      tls: { ca: pki.read("ca.crt").toString(), cert: pki.read("client.crt").toString(), key: pki.read("client.key").toString() },
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { name: string }).name).toBe("mtls-vm");
    const ok = await probe(valid());
    expect(ok.handshakeCompleted).toBe(true);
    expect(ok.applicationBytes).toBeGreaterThan(0);
  });

  test("handlers see the verified client certificate (call log names it)", async () => {
    const from = h.logs.length;
    await h.grpc.getNodeInfo({});
    await h.connect.listVMs({});
    const lines = h.logs.slice(from).filter((l) => l.includes("from 127.0.0.1"));
    expect(lines.some((l) => l.includes("GetNodeInfo") && l.includes("CN=control-plane"))).toBe(true);
    expect(lines.some((l) => l.includes("ListVMs") && l.includes("CN=control-plane"))).toBe(true);
  });

  test("reload serves the new certificate to new connections; the listener and open connections stay", async () => {
    const port = h.daemon.api.port;
    // An HTTP/2 connection and an event stream opened before the reload.
    const session = http2.connect(h.baseUrl, { ca: pki.read("ca.crt"), ...valid() });
    await new Promise<void>((r, j) => session.once("connect", () => r()).once("error", j));
    const oldCn = String((session.socket as tls.TLSSocket).getPeerCertificate().subject.CN);
    const ac = new AbortController();
    const seen: string[] = [];
    const subscribers = h.daemon.events.subscriberCount();
    const stream = (async () => {
      try {
        for await (const e of h.grpc.streamEvents({}, { signal: ac.signal })) seen.push(e.vmId);
      } catch {}
    })();
    await waitFor("the event stream's subscription", () => h.daemon.events.subscriberCount() > subscribers);

    copyFileSync(pki.path("server-rotated.crt"), pki.path("live.crt"));
    copyFileSync(pki.path("server-rotated.key"), pki.path("live.key"));
    await h.daemon.reloadTls();

    expect(h.daemon.api.port).toBe(port);
    expect(oldCn).toBe("node-original");
    expect((await probe(valid())).serverCn).toBe("node-rotated");
    // The old connection still answers, on the certificate it was opened with.
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": "/limiquantix.node.v1.NodeDaemonService/HealthCheck", "content-type": "application/json" });
      req.on("response", (hdrs) => resolve(Number(hdrs[":status"])));
      req.on("error", reject);
      req.resume();
      req.end("{}");
    });
    expect(status).toBe(200);
    expect(String((session.socket as tls.TLSSocket).getPeerCertificate().subject.CN)).toBe("node-original");
    // The stream opened before the reload keeps delivering.
    const id = newVmId();
    await createClient(NodeDaemonService, createGrpcTransport({ baseUrl: h.baseUrl, nodeOptions: { ca: pki.read("ca.crt"), ...valid() } })).createVM({
      vmId: id,
      ...smallVm("after-reload"),
    });
    await waitFor("the new VM's event on the old stream", () => seen.includes(id));
    // Still mutual TLS after the reload.
    expect((await probe(stranger())).applicationBytes).toBe(0);
    ac.abort();
    await stream;
    session.close();
  });

  test("a reload with a key that does not match its certificate fails and keeps the served one", async () => {
    copyFileSync(pki.path("server.crt"), pki.path("live.crt"));
    copyFileSync(pki.path("client.key"), pki.path("live.key"));
    await expect(h.daemon.reloadTls()).rejects.toThrow();
    expect((await probe(valid())).serverCn).toBe("node-rotated");
    writeFileSync(pki.path("live.key"), "-----BEGIN PRIVATE KEY-----\ntruncated");
    await expect(h.daemon.reloadTls()).rejects.toThrow();
    expect((await h.grpc.healthCheck({})).healthy).toBe(true);
  });
});

describe.skipIf(!openssl)("a strict independent client (grpc-go through buf curl)", () => {
  const repo = join(import.meta.dir, "..", "..");
  const BUF = join(repo, "node_modules", ".bin", "buf");
  async function bufCurl(extra: string[]) {
    const url = `${h.baseUrl}/limiquantix.node.v1.NodeDaemonService/HealthCheck`;
    // The schema from proto/, not reflection: a refused handshake must show as such.
    const args = ["curl", "--protocol", "grpc", "--schema", join(repo, "proto"), "--cacert", pki.path("ca.crt"), ...extra, "-d", "{}", url];
    const proc = Bun.spawn([BUF, ...args], { stdout: "pipe", stderr: "pipe", cwd: repo });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { out, err, code };
  }

  test("with the client certificate: answers over TLS 1.3 + HTTP/2", async () => {
    const r = await bufCurl(["--cert", pki.path("client.crt"), "--key", pki.path("client.key")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).healthy).toBe(true);
  });

  test("without one, or with the stranger's: refused", async () => {
    const none = await bufCurl([]);
    expect(none.code).not.toBe(0);
    // TLS 1.3 sends the client's Finished before the server checks for a certificate, so grpc-go
    // sees either the server's "certificate required" alert or the connection closing under it
    // (reset, EOF, or a write to the closed socket: "broken pipe").
    expect(`${none.out}${none.err}`).toMatch(/certificate required|could not be established|connection reset|EOF|broken pipe/i);
    expect(`${none.out}${none.err}`).not.toContain("healthy");
    const stranger = await bufCurl(["--cert", pki.path("stranger.crt"), "--key", pki.path("stranger.key")]);
    expect(stranger.code).not.toBe(0);
    expect(`${stranger.out}${stranger.err}`).not.toContain("healthy"); // closed during the handshake (no alert)
  });
});

describe.skipIf(!openssl)("the peer the listener reports", () => {
  let listener: Listener;
  beforeAll(async () => {
    listener = await listen(
      (req, res) => {
        const peer = peerOf(req);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ tls: peer.tls, certificate: peer.certificate, httpVersion: peer.httpVersion }));
      },
      { host: "127.0.0.1", port: 0, tls: { cert: pki.read("server.crt"), key: pki.read("server.key"), clientCa: pki.read("ca.crt") } },
    );
  });
  afterAll(() => listener?.close(100));

  test("is the certificate the client presented, over HTTP/2 and HTTP/1.1", async () => {
    const expected = new X509Certificate(pki.read("client.crt"));
    const h2 = http2.connect(`https://127.0.0.1:${listener.port}`, { ca: pki.read("ca.crt"), ...valid() });
    const body = await new Promise<string>((resolve, reject) => {
      let text = "";
      const req = h2.request({ ":path": "/" });
      req.on("data", (c) => (text += c));
      req.on("end", () => resolve(text));
      req.on("error", reject);
      req.end();
    });
    h2.close();
    const viaH2 = JSON.parse(body);
    expect(viaH2.tls).toBe(true);
    expect(viaH2.httpVersion).toBe("2.0");
    expect(viaH2.certificate.subjectCn).toBe("control-plane");
    expect(viaH2.certificate.issuerCn).toBe("limiquantix test node CA");
    expect(viaH2.certificate.serialNumber.toUpperCase()).toBe(expected.serialNumber.toUpperCase());
    expect(viaH2.certificate.fingerprint256).toBe(expected.fingerprint256);

    const res = await fetch(`https://127.0.0.1:${listener.port}/`, {
      tls: { ca: pki.read("ca.crt").toString(), ...Object.fromEntries(Object.entries(valid()).map(([k, v]) => [k, v.toString()])) },
    } as RequestInit);
    const viaH1 = (await res.json()) as typeof viaH2;
    expect(viaH1.httpVersion).toBe("1.1");
    expect(viaH1.certificate.fingerprint256).toBe(expected.fingerprint256);
  });

  test("client certificates cannot be switched off by a reload", () => {
    expect(() => listener.setTls({ cert: pki.read("server.crt"), key: pki.read("server.key") })).toThrow(/restart/);
  });
});
