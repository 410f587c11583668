// The standard grpc.health.v1.Health service, for grpc_health_probe, load balancers and
// Kubernetes-style probes. "" is the whole server; the node service is SERVING while the
// hypervisor backend is usable.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  type HealthCheckResponse_ServingStatus,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
} from "../gen/grpc/health/v1/health_pb.ts";
import { NodeDaemonService } from "../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { sleep } from "../common/sleep.ts";

/** How often Watch re-checks; a status change reaches watchers within this. */
const WATCH_POLL_MS = 1000;

export function registerHealth(router: ConnectRouter, opts: { healthy: () => boolean; shutdown: AbortSignal }) {
  const statusOf = (service: string): HealthCheckResponse_ServingStatus | undefined => {
    if (service !== "" && service !== NodeDaemonService.typeName) return undefined;
    if (opts.shutdown.aborted) return Status.NOT_SERVING;
    return opts.healthy() ? Status.SERVING : Status.NOT_SERVING;
  };

  router.service(Health, {
    check(req) {
      const status = statusOf(req.service);
      if (status === undefined) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return create(HealthCheckResponseSchema, { status });
    },
    list() {
      const statuses: Record<string, ReturnType<typeof create<typeof HealthCheckResponseSchema>>> = {};
      for (const name of ["", NodeDaemonService.typeName]) {
        statuses[name] = create(HealthCheckResponseSchema, { status: statusOf(name)! });
      }
      return create(HealthListResponseSchema, { statuses });
    },
    async *watch(req, ctx) {
      const signal = AbortSignal.any([ctx.signal, opts.shutdown]);
      let last: HealthCheckResponse_ServingStatus | undefined;
      while (!signal.aborted) {
        const status = statusOf(req.service) ?? Status.SERVICE_UNKNOWN;
        if (status !== last) yield create(HealthCheckResponseSchema, { status });
        last = status;
        await sleep(WATCH_POLL_MS, signal);
      }
    },
  });
}
