// Cross-cutting behaviour for every RPC: failures become ConnectErrors with the right code
// (one mapping, in errors.ts), and unexpected ones are logged once with their stack.

import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "./deps.ts";
import { toConnectError } from "./errors.ts";

export function errorInterceptor(log: Logger): Interceptor {
  const report = (method: string) => (err: unknown) => log.error(`${method} failed unexpectedly:`, err);
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      // Streaming handlers fail while the response is being read, after next() returned.
      const source = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* source;
          } catch (err) {
            throw toConnectError(err, report(method));
          }
        })(),
      };
    } catch (err) {
      throw toConnectError(err, report(method));
    }
  };
}
