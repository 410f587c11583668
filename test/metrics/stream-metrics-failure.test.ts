// StreamMetrics over a metrics source that fails: the stream ends with the error (which the
// server's error interceptor logs and turns into a status) instead of waiting forever.

import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { expect, test } from "bun:test";
import { StreamMetricsRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { MetricsSource, ServiceDeps } from "../../src/server/deps.ts";
import { streamHandlers } from "../../src/server/services/streams.ts";

test("a failing metrics source ends the stream with its error instead of a silent hang", async () => {
  let subscribed = 0;
  let unsubscribed = 0;
  const metrics: MetricsSource = {
    subscribe(_interval, _listener, onError) {
      subscribed++;
      queueMicrotask(() => onError(new Error("sampler exploded")));
      return () => void unsubscribed++;
    },
  };
  const deps = { metrics, shutdown: new AbortController().signal } as unknown as ServiceDeps & { shutdown: AbortSignal };
  const ctx = { signal: new AbortController().signal } as HandlerContext;
  const stream = streamHandlers(deps).streamMetrics(create(StreamMetricsRequestSchema, { intervalMs: 250 }), ctx);
  const drain = (async () => {
    for await (const _ of stream) {
      // no tick is ever delivered
    }
  })();
  const outcome = await Promise.race([
    drain.then(
      () => "ended",
      (err: unknown) => String(err),
    ),
    Bun.sleep(2000).then(() => "hung"),
  ]);
  expect(outcome).toContain("sampler exploded");
  expect([subscribed, unsubscribed]).toEqual([1, 1]);
});
