// GET /ui/history: the dashboard's 1-hour sparklines, from the daemon's own sampler
// (metrics/host-history.ts). Session required, like every host UI route.
//   -> {intervalSeconds, points: [{t (unix ms), cpuPercent, memoryUsedBytes, memoryTotalBytes,
//       load1, diskUsedBytes, diskTotalBytes}]}, oldest first; a figure the host lacks is null.

import { createHostHistory } from "../../metrics/host-history.ts";
import type { HostUiContext, SessionRoutes } from "../host-ui/router.ts";

export const HISTORY_PATH = "/ui/history";

/** The session routes factory for host-ui/router.ts; recording lasts as long as the listener. */
export function historySessionRoutes(ctx: HostUiContext): SessionRoutes {
  const history = createHostHistory(ctx.services.metrics, { diskPath: ctx.services.config.hypervisor.storagePath });
  ctx.onClose(history.close);
  return { [HISTORY_PATH]: { GET: () => Response.json(history.snapshot()) } };
}
