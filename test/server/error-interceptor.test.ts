// errorInterceptor on streams: a failure while the client is still there is reported once as
// unexpected; a failure after the client went away (its writes fail) is a cancellation, not logged.

import { expect, test } from "bun:test";
import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { errorInterceptor } from "../../src/server/interceptors.ts";

function run(interceptor: Interceptor, signal: AbortSignal, failure: Error) {
  const res = {
    stream: true,
    message: (async function* () {
      yield 1;
      throw failure;
    })(),
  } as unknown as StreamResponse;
  const next = (async () => res) as unknown as Parameters<Interceptor>[0];
  const req = { service: { typeName: "limiquantix.node.v1.NodeDaemonService" }, method: { name: "StreamMetrics" }, signal, contextValues: new Map() };
  return (interceptor(next) as unknown as (r: typeof req) => Promise<StreamResponse>)(req);
}

async function drain(res: StreamResponse): Promise<unknown> {
  try {
    for await (const _ of res.message) {
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

function capture() {
  const errors: string[] = [];
  const log = { error: (...a: unknown[]) => errors.push(a.map(String).join(" ")), warn: () => undefined, info: () => undefined, debug: () => undefined };
  return { errors, interceptor: errorInterceptor(log as never) };
}

test("a stream whose client went away ends as cancelled, with nothing logged", async () => {
  const { errors, interceptor } = capture();
  const gone = new AbortController();
  gone.abort();
  const err = await drain(await run(interceptor, gone.signal, new Error("Cannot call write after a stream was destroyed")));
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(Code.Canceled);
  expect(errors).toEqual([]);
});

test("a stream that fails while its client is there is reported once as unexpected", async () => {
  const { errors, interceptor } = capture();
  const err = await drain(await run(interceptor, new AbortController().signal, new Error("a bug")));
  expect((err as ConnectError).code).toBe(Code.Internal);
  expect(errors.length).toBe(1);
  expect(errors[0]).toContain("StreamMetrics failed unexpectedly");
});
