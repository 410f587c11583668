import type { BenchContext } from "../lib/context.ts";
import type { BenchRow } from "../lib/rows.ts";

/** One part of the suite; `bun run bench --only NAME` runs only the named ones. */
export interface Section {
  name: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export const NODE_SERVICE = "/limiquantix.node.v1.NodeDaemonService";
