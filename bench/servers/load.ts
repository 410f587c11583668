// Runs bench/load.ts (the mixed-RPC load test of the reliability work) in its own process and
// prints its rows as one `READY <json>` line: its daemon and clients share one event loop,
// which must not be the runner's. Usage: bun bench/servers/load.ts SECONDS
import { runLoad } from "../load.ts";

const seconds = Number(process.argv[2] ?? 10);
const result = await runLoad({ seconds, log: () => {} });
process.stdout.write(`READY ${JSON.stringify(result)}\n`);
process.exit(0);
