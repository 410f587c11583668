// The Quantix guest agent of the real-tier test guest (contract 4.2-4.4), compiled with
// `bun build --compile` into the guest image by scripts/build-test-guest.sh. It keeps
// /dev/virtio-ports/org.quantix.agent.0 open, speaks QTX1 with the daemon's own framing module
// and generated messages, sends AgentReady whenever a host connects and Telemetry every few
// seconds while one is, and answers each request with the request's message_id. Commands
// (Execute) run concurrently, but their replies leave in the order the commands arrived, so a
// host that writes commands in call order gets their replies in call order; other requests are
// answered as they complete (a ping must not wait behind a long command).
//
// Its log (/var/log/quantix-agent.log, also on the console) is what tests read back through the
// agent itself: "froze /mnt/data", "thawed /mnt/data", "shutdown requested by the host: reboot".

import { appendFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { createFrameDecoder, encodeFrame, FrameError } from "../../../src/agent/framing.ts";
import { type AgentMessage, AgentMessageSchema } from "../../../src/gen/limiquantix/agent/v1/agent_pb.ts";
import { agentReady, telemetry } from "./facts.ts";
import { createHandlers, type Reply } from "./handlers.ts";
import { openPort } from "./port.ts";

// By name only: a vportNpM number can be qemu-ga's port, and a port opened by the wrong agent
// leaves both silent.
const PORTS = ["/dev/virtio-ports/org.quantix.agent.0", "/dev/virtio-ports/org.limiquantix.agent.0"];
const LOG_FILE = process.env.QUANTIX_AGENT_LOG ?? "/var/log/quantix-agent.log";
const TELEMETRY_MS = Number(process.env.QUANTIX_AGENT_TELEMETRY_MS ?? 5000);

function log(message: string) {
  const line = `${new Date().toISOString()} quantix-agent: ${message}\n`;
  try {
    appendFileSync(LOG_FILE, line);
  } catch {}
  process.stderr.write(line);
}

const handle = createHandlers({
  log,
  power(kind) {
    log(`running /sbin/${kind}`);
    Bun.spawn([`/sbin/${kind}`], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  },
});

const newDecoder = () => createFrameDecoder({ parse: (p) => fromBinary(AgentMessageSchema, p) });
let decoder = newDecoder();

const port = await openPort(
  PORTS,
  {
    onConnect() {
      log("host connected");
      decoder = newDecoder();
      send("", { case: "agentReady", value: agentReady() });
    },
    onDisconnect() {
      log("host disconnected");
    },
    onData(chunk) {
      let messages: AgentMessage[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        // Out of step beyond the resync budget: start afresh with the next bytes.
        log(err instanceof FrameError ? err.message : String(err));
        decoder = newDecoder();
        return;
      }
      for (const m of messages) void answer(m);
    },
  },
  log,
);

function send(messageId: string, payload: Reply): Promise<void> {
  const frame = encodeFrame(toBinary(AgentMessageSchema, create(AgentMessageSchema, { messageId, timestamp: timestampNow(), payload })));
  return port.write(frame);
}

/** Settles once the reply to the last command that arrived has been sent (or given up). */
let commandsAnswered: Promise<void> = Promise.resolve();

function answer(m: AgentMessage): Promise<void> {
  const work = handle(m);
  if (m.payload.case !== "execute") return sendReply(m, work);
  // Handled when its turn comes; until then a failure must not count as unhandled.
  work.catch(() => undefined);
  const before = commandsAnswered;
  commandsAnswered = before.then(() => sendReply(m, work));
  return commandsAnswered;
}

async function sendReply(m: AgentMessage, work: Promise<Reply | undefined>) {
  let reply: Reply | undefined;
  try {
    reply = await work;
  } catch (err) {
    log(`${m.payload.case} ${m.messageId} failed: ${(err as Error).message}`);
    return;
  }
  if (!reply) return;
  try {
    // Ping sequence 1: the host asks for a telemetry report now.
    if (m.payload.case === "ping" && m.payload.value.sequence === 1n) await send("", { case: "telemetry", value: telemetry() });
    await send(m.messageId, reply);
  } catch (err) {
    log(`cannot answer ${m.payload.case} ${m.messageId}: ${(err as Error).message}`);
  }
}

setInterval(() => {
  if (port.connected) send("", { case: "telemetry", value: telemetry() }).catch((err) => log(`telemetry: ${(err as Error).message}`));
}, TELEMETRY_MS);

log(`started, pid ${process.pid}`);
