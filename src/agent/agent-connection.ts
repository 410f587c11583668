// One connection to one guest's agent over the host side of its virtio-serial channel (a unix
// socket QEMU listens on). Requests carry a fresh UUID message_id and wait, each with its own
// timeout, for the reply carrying the same id; replies nobody waits for are dropped. Telemetry,
// AgentReady and Error arrive unsolicited and go to onEvent. A frame stream that cannot be
// resynchronised, an EOF or a socket error close the connection and fail every pending request.

import { randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type AgentMessage, AgentMessageSchema } from "../gen/limiquantix/agent/v1/agent_pb.ts";
import { HypervisorError } from "../hypervisor/errors.ts";
import { createFrameDecoder, encodeFrame, FrameError } from "./framing.ts";

export type Payload = AgentMessage["payload"];
export type PayloadCase = NonNullable<Payload["case"]>;
export type PayloadOf<C extends PayloadCase> = Extract<Payload, { case: C }>["value"];
/** A request as the caller builds it: { case: "ping", value: { sequence: 1n } }. */
export type AgentRequest = { [C in PayloadCase]: { case: C; value: Partial<PayloadOf<C>> } }[PayloadCase];

const UNSOLICITED: ReadonlySet<PayloadCase> = new Set(["telemetry", "agentReady", "error", "clipboardChanged"]);

export interface AgentConnection {
  /** Sends a request and resolves with the reply's payload of the expected case. */
  call<R extends PayloadCase>(request: AgentRequest, reply: R, timeoutMs: number, signal?: AbortSignal): Promise<PayloadOf<R>>;
  close(reason: string): void;
  readonly closed: boolean;
  /** Requests waiting for their reply. */
  pending(): number;
  /** Frames received (any kind) since the connection opened. */
  received(): number;
}

export interface ConnectionHandlers {
  /** Telemetry, AgentReady, Error and ClipboardChanged. */
  onEvent?: (message: AgentMessage) => void;
  /** Every frame, after routing (the manager counts it as "the guest answers"). */
  onFrame?: (message: AgentMessage) => void;
  onClose?: (reason: string) => void;
}

interface Pending {
  reply: PayloadCase;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

const unavailable = (message: string) => new HypervisorError("unavailable", message);

/** Connects to the socket at path, bounded by timeoutMs. */
export function openAgentConnection(path: string, timeoutMs: number, handlers: ConnectionHandlers = {}): Promise<AgentConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unavailable(`agent socket did not accept a connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unavailable(`cannot connect to the agent socket: ${err.code ?? err.message}`));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(wrapSocket(socket, handlers));
    });
  });
}

/** The protocol over any connected duplex socket (tests hand in one end of a pair). */
export function wrapSocket(socket: Socket, handlers: ConnectionHandlers = {}): AgentConnection {
  const pending = new Map<string, Pending>();
  let closed = false;
  let frames = 0;
  const decoder = createFrameDecoder({ parse: (p) => fromBinary(AgentMessageSchema, p) });

  function close(reason: string) {
    if (closed) return;
    closed = true;
    socket.destroy();
    for (const [id, p] of pending) {
      pending.delete(id);
      p.cleanup();
      p.reject(unavailable(`agent connection closed: ${reason}`));
    }
    handlers.onClose?.(reason);
  }

  function route(message: AgentMessage) {
    frames++;
    const kind = message.payload.case;
    if (kind !== undefined && UNSOLICITED.has(kind)) {
      handlers.onEvent?.(message);
    } else {
      const p = pending.get(message.messageId);
      if (p) {
        pending.delete(message.messageId);
        p.cleanup();
        if (kind === p.reply) p.resolve(message.payload.value);
        else p.reject(new HypervisorError("internal", `the guest agent answered ${p.reply} with ${kind ?? "an empty message"}`));
      }
    }
    handlers.onFrame?.(message);
  }

  socket.on("data", (chunk: Buffer) => {
    let messages: AgentMessage[];
    try {
      messages = decoder.push(chunk);
    } catch (err) {
      close(err instanceof FrameError ? err.message : String(err));
      return;
    }
    for (const m of messages) route(m);
  });
  socket.on("end", () => close("the guest side closed the channel"));
  socket.on("close", () => close("the channel closed"));
  socket.on("error", (err: NodeJS.ErrnoException) => close(`socket error ${err.code ?? err.message}`));

  return {
    call(request, reply, timeoutMs, signal) {
      if (closed) return Promise.reject(unavailable("agent connection is closed"));
      if (signal?.aborted) return Promise.reject(new HypervisorError("cancelled", "the call was cancelled"));
      const messageId = randomUUID();
      const message = create(AgentMessageSchema, {
        messageId,
        timestamp: timestampFromMs(Date.now()),
        payload: request as Payload,
      });
      let frame: Uint8Array;
      try {
        frame = encodeFrame(toBinary(AgentMessageSchema, message));
      } catch (err) {
        return Promise.reject(new HypervisorError("invalid_argument", (err as Error).message));
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          pending.delete(messageId);
          cleanup();
          reject(new HypervisorError("cancelled", "the call was cancelled"));
        };
        const timer = setTimeout(() => {
          pending.delete(messageId);
          cleanup();
          reject(new HypervisorError("timeout", `the guest agent did not answer ${request.case} within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        pending.set(messageId, { reply, resolve: resolve as (v: unknown) => void, reject, cleanup });
        socket.write(frame);
      });
    },
    close,
    get closed() {
      return closed;
    },
    pending: () => pending.size,
    received: () => frames,
  };
}
