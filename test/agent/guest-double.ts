// A test double of the guest side of the agent channel (contract 4.2, "guest behaviour"): a unix
// socket server where QEMU would bind it. On connect it sends AgentReady, then answers requests
// with the same message_id, each as it reads it (so in the order it reads them). Files live in memory; commands are a few canned programs. Tests
// switch it into misbehaving modes: silence, garbage, partial frames, oversize frames,
// disconnects mid-request.

import { mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type AgentMessage, AgentMessageSchema, InterfaceState } from "../../src/gen/limiquantix/agent/v1/agent_pb.ts";
import { createFrameDecoder, encodeFrame, HEADER_BYTES, MAGIC } from "../../src/agent/framing.ts";

type Payload = MessageInitShape<typeof AgentMessageSchema>["payload"];

export type Mode = "normal" | "silent" | "garbage" | "partial" | "oversize" | "disconnect";

export interface GuestDouble {
  path: string;
  mode: Mode;
  files: Map<string, Uint8Array>;
  /** Requests received, by payload case, in arrival order. */
  received: AgentMessage[];
  connections(): number;
  /** Sends a frame to every connected host (events). */
  broadcast(payload: Payload): void;
  kickAll(): void;
  close(): Promise<void>;
  frozen: boolean;
  shutdowns: string[];
}

export const GUEST_KERNEL = "6.1.0-test-amd64";

export async function startGuestDouble(path: string): Promise<GuestDouble> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const sockets = new Set<Socket>();
  let accepted = 0;
  const send = (socket: Socket, messageId: string, payload: Payload) => {
    const frame = encodeFrame(toBinary(AgentMessageSchema, create(AgentMessageSchema, { messageId, timestamp: timestampNow(), payload })));
    if (double.mode === "partial") {
      // Byte by byte, each write its own chunk.
      for (let i = 0; i < frame.length; i++) socket.write(frame.subarray(i, i + 1));
    } else socket.write(frame);
  };

  function answer(socket: Socket, m: AgentMessage) {
    double.received.push(m);
    if (double.mode === "silent") return;
    if (double.mode === "disconnect") return void socket.destroy();
    if (double.mode === "garbage") return void socket.write(new Uint8Array(70 * 1024).fill(0x42));
    if (double.mode === "oversize") {
      const header = new Uint8Array(HEADER_BYTES);
      header.set(MAGIC);
      new DataView(header.buffer).setUint32(4, 16 * 1024 * 1024 + 1, false);
      socket.write(header);
      return;
    }
    const id = m.messageId;
    const p = m.payload;
    switch (p.case) {
      case "ping":
        if (p.value.sequence === 1n) send(socket, "", { case: "telemetry", value: telemetry() });
        return send(socket, id, { case: "pong", value: { sequence: p.value.sequence, version: "0.1.27-double", uptimeSeconds: 42n } });
      case "execute": {
        const cmd = p.value.command;
        if (cmd === "sleep-forever") return;
        const out = cmd === "uname -r" ? `${GUEST_KERNEL}\n` : cmd.startsWith("echo ") ? `${cmd.slice(5)}\n` : "";
        const exitCode = cmd === "false" ? 1 : cmd === "uname -r" || cmd.startsWith("echo ") || cmd === "true" ? 0 : 127;
        return send(socket, id, {
          case: "executeResponse",
          value: { exitCode, stdout: out, stderr: exitCode === 127 ? `sh: ${cmd}: not found\n` : "", durationMs: 3n },
        });
      }
      case "fileWrite": {
        const w = p.value;
        const prev = Number(w.offset) === 0 ? new Uint8Array(0) : (double.files.get(w.path) ?? new Uint8Array(0));
        const next = new Uint8Array(Math.max(prev.length, Number(w.offset) + w.data.length));
        next.set(prev);
        next.set(w.data, Number(w.offset));
        double.files.set(w.path, next);
        return send(socket, id, { case: "fileWriteResponse", value: { success: true, bytesWritten: BigInt(w.data.length), chunkNumber: w.chunkNumber } });
      }
      case "fileRead": {
        const r = p.value;
        const file = double.files.get(r.path);
        if (!file) return send(socket, id, { case: "fileReadResponse", value: { success: false, error: `${r.path}: No such file or directory` } });
        const start = Number(r.offset);
        const len = Number(r.length) || r.chunkSize || 65536;
        const data = file.subarray(start, Math.min(file.length, start + Math.min(len, r.chunkSize || 65536)));
        return send(socket, id, {
          case: "fileReadResponse",
          value: { success: true, data, eof: start + data.length >= file.length, totalSize: BigInt(file.length), offset: r.offset },
        });
      }
      case "shutdown":
        double.shutdowns.push(p.value.type === 1 ? "reboot" : "poweroff");
        return send(socket, id, { case: "shutdownResponse", value: { accepted: true } });
      case "quiesce":
        double.frozen = true;
        return send(socket, id, {
          case: "quiesceResponse",
          value: { success: true, quiesceToken: "tok-1", frozen: [{ mountPoint: "/mnt/data", device: "/dev/vda", filesystem: "ext4", frozen: true }] },
        });
      case "thaw":
        double.frozen = false;
        return send(socket, id, { case: "thawResponse", value: { success: true, thawedMountPoints: ["/mnt/data"], frozenDurationMs: 5n } });
      case "syncTime":
        return send(socket, id, { case: "syncTimeResponse", value: { success: true, offsetSeconds: 0.25, timeSource: "host" } });
      case "listDirectory":
        return send(socket, id, {
          case: "listDirectoryResponse",
          value: {
            success: true,
            entries: [...double.files.keys()].map((k) => ({
              name: k.split("/").pop() ?? k,
              path: k,
              sizeBytes: BigInt(double.files.get(k)?.length ?? 0),
              mode: 0o644,
            })),
          },
        });
      default:
        // Requests it does not handle, and responses or events it receives: no reply.
        return;
    }
  }

  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    const decoder = createFrameDecoder({ parse: (b) => fromBinary(AgentMessageSchema, b) });
    socket.on("data", (chunk: Buffer) => {
      let messages: AgentMessage[] = [];
      try {
        messages = decoder.push(chunk);
      } catch {
        socket.destroy();
      }
      for (const m of messages) answer(socket, m);
    });
    if (double.mode === "normal" || double.mode === "partial") {
      send(socket, "", {
        case: "agentReady",
        value: {
          version: "0.1.27-double",
          osName: "Test Linux",
          osVersion: "1",
          kernelVersion: GUEST_KERNEL,
          architecture: "x86_64",
          hostname: "guest-double",
          ipAddresses: ["10.0.2.15"],
          capabilities: ["execute", "file_read", "file_write", "shutdown", "quiesce", "thaw", "sync_time"],
        },
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));

  const double: GuestDouble = {
    path,
    mode: "normal",
    files: new Map(),
    received: [],
    frozen: false,
    shutdowns: [],
    connections: () => accepted,
    broadcast(payload) {
      for (const s of sockets) send(s, "", payload);
    },
    kickAll() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return double;
}

export function telemetry() {
  return {
    cpuUsagePercent: 3.5,
    memoryTotalBytes: 256n * 1024n * 1024n,
    memoryUsedBytes: 27n * 1024n * 1024n,
    memoryAvailableBytes: 229n * 1024n * 1024n,
    hostname: "guest-double",
    interfaces: [
      { name: "lo", ipv4Addresses: ["127.0.0.1/8"], state: InterfaceState.UP },
      { name: "eth0", macAddress: "52:54:00:12:34:56", ipv4Addresses: ["10.0.2.15/24"], state: InterfaceState.UP },
    ],
    disks: [
      {
        mountPoint: "/mnt/data",
        filesystem: "ext4",
        device: "/dev/vda",
        totalBytes: 16n << 20n,
        usedBytes: 1n << 20n,
        availableBytes: 15n << 20n,
        usagePercent: 6.25,
      },
    ],
    processCount: 12,
    uptimeSeconds: 42n,
  };
}
