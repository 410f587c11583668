// Bare QTX1 pings on a guest's agent socket, as the daemon sends them, with nothing else in the
// way: the baseline PingAgent is compared with (bench/sections/agent.ts), run from the bench's
// process and from the daemon's (bench/servers/agent-guest.ts).

import { connect } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { createFrameDecoder, encodeFrame } from "../../src/agent/framing.ts";
import { type AgentMessage, AgentMessageSchema } from "../../src/gen/limiquantix/agent/v1/agent_pb.ts";

export /** `count` sequential QTX1 pings on the socket, as the daemon sends them; round trips in ms. */
async function barePings(path: string, count: number): Promise<number[]> {
  const socket = connect({ path });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const decoder = createFrameDecoder({ parse: (p) => fromBinary(AgentMessageSchema, p) });
  const waiting = new Map<string, () => void>();
  socket.on("data", (chunk: Buffer) => {
    for (const m of decoder.push(chunk) as AgentMessage[]) waiting.get(m.messageId)?.();
  });
  const ping = (seq: number) =>
    new Promise<void>((resolve, reject) => {
      const id = crypto.randomUUID();
      const timer = setTimeout(() => reject(new Error("a bare ping got no pong within 10 s")), 10_000);
      waiting.set(id, () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      });
      socket.write(
        encodeFrame(
          toBinary(
            AgentMessageSchema,
            create(AgentMessageSchema, { messageId: id, timestamp: timestampNow(), payload: { case: "ping", value: { sequence: BigInt(seq + 2) } } }),
          ),
        ),
      );
    });
  try {
    // The first round trip after a connect is slow (20-150 ms): not measured.
    for (let i = 0; i < 5; i++) await ping(i);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await ping(i);
      out.push(performance.now() - t);
    }
    return out;
  } finally {
    socket.destroy();
  }
}
