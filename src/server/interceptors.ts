// Cross-cutting behaviour for every RPC: failures become ConnectErrors with the right code
// (one mapping, in errors.ts) and a message cleaned of stack traces and host paths outside the
// storage roots; unexpected ones are logged once with their stack.

import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { withRequestSignal } from "../common/request-signal.ts";
import type { Logger } from "./deps.ts";
import { toConnectError } from "./errors.ts";
import { peerKey } from "./peer.ts";

/**
 * A streaming response whose messages go through `wrap`: a streaming handler runs (and fails)
 * while its response is being read, after next() has returned.
 */
function wrapStream(res: StreamResponse, wrap: (source: AsyncIterable<unknown>) => AsyncGenerator<unknown>): StreamResponse {
  return { ...res, message: wrap(res.message) } as StreamResponse;
}

export function errorInterceptor(log: Logger, storageRoots: readonly string[] = []): Interceptor {
  const policy = (method: string) => ({
    report: (err: unknown) => log.error(`${method} failed unexpectedly:`, err),
    storageRoots,
  });
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return wrapStream(res, async function* (source) {
        try {
          yield* source;
        } catch (err) {
          // A client that went away mid-stream fails the next write ("write after a stream was
          // destroyed"): the end of the call, not a fault of the daemon's.
          if (req.signal.aborted) throw new ConnectError("the client cancelled the stream", Code.Canceled);
          throw toConnectError(err, policy(method));
        }
      });
    } catch (err) {
      throw toConnectError(err, policy(method));
    }
  };
}

/**
 * One debug line per call naming the caller: its address and, under mutual TLS, the subject of
 * the certificate the handshake verified. Enough to answer "who deleted this VM" from the log.
 */
export function callLogInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    const peer = req.contextValues.get(peerKey);
    const who = peer
      ? `${peer.address}${peer.certificate ? ` (certificate CN=${peer.certificate.subjectCn}, serial ${peer.certificate.serialNumber})` : ""}`
      : "unknown";
    log.debug(`${req.method.name} from ${who}`);
    return next(req);
  };
}

export interface CallTracker {
  interceptor: Interceptor;
  /** Calls whose handler has not finished: unary in flight, streams still open. */
  active(): number;
}

/** Counts calls until their handler has really finished, so a stuck handler shows as a leak. */
export function createCallTracker(): CallTracker {
  let active = 0;
  const interceptor: Interceptor = (next) => async (req) => {
    active++;
    let streaming = false;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      streaming = true;
      return wrapStream(res, async function* (source) {
        try {
          yield* source;
        } finally {
          active--;
        }
      });
    } finally {
      if (!streaming) active--;
    }
  };
  return { interceptor, active: () => active };
}

/**
 * Makes the call's AbortSignal (the client went away, or its deadline passed) reachable from the
 * layers below without a parameter on every method (common/request-signal.ts): the libvirt call
 * pool drops the call's queued work. A streaming handler runs while its response is read, so each
 * step of the stream runs in the same scope.
 */
export function requestSignalInterceptor(): Interceptor {
  return (next) => (req) =>
    withRequestSignal(req.signal, async () => {
      const res = await next(req);
      if (!res.stream) return res;
      return wrapStream(res, async function* (source) {
        const it = source[Symbol.asyncIterator]();
        try {
          for (;;) {
            const step = await withRequestSignal(req.signal, () => it.next());
            if (step.done) return;
            yield step.value;
          }
        } finally {
          await it.return?.();
        }
      });
    });
}
