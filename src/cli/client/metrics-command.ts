// `metrics`: one sample of host and per-VM figures, or with --watch a live view redrawn on
// every sample (alternate screen on a terminal; q, Esc or Ctrl-C quits and restores it).

import { defineCommand } from "citty";
import { type NodeMetrics, NodeMetricsSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { runClient } from "./failures.ts";
import { jsonText, parseDurationMs } from "./format.ts";
import { renderMetrics } from "./metrics-view.ts";
import { createTerminalScreen, type Screen } from "./terminal-screen.ts";

/** The daemon's bounds for interval_ms. */
const MIN_MS = 250;
const MAX_MS = 3_600_000;

export function intervalMs(text: string | undefined): number {
  const ms = parseDurationMs(text ?? "1s");
  if (ms === undefined || ms < MIN_MS || ms > MAX_MS) {
    throw new UsageError(`--interval ${JSON.stringify(text)}: give a duration from 250ms to 1h, e.g. 1s or 500ms`);
  }
  return ms;
}

/**
 * Proto JSON of a sample with every field, except the figures the daemon did not measure (its
 * absent_fields, and a host CPU figure not measured yet): those keys are left out, as the
 * daemon's own JSON does, so a script never reads them as 0.
 */
export function metricsJson(m: NodeMetrics): string {
  const absent = m.cpuMeasured || m.absentFields.includes("cpu_usage_percent") ? m.absentFields : [...m.absentFields, "cpu_usage_percent"];
  return jsonText(NodeMetricsSchema, m, absent);
}

export const metricsCommand = defineCommand({
  meta: { name: "metrics", description: "Host and per-VM figures: one sample, or a live view with --watch" },
  args: withExamples(
    {
      watch: { type: "boolean", alias: "w", description: "Keep the view open and redraw it every interval (q or Ctrl-C quits)" },
      interval: { type: "string", description: "Time between samples, 250ms to 1h", default: "1s", valueHint: "duration" },
      ...clientArgs,
    },
    ["metrics", "metrics --watch", "metrics --watch --interval 5s", "metrics --json | jq '.cpuUsagePercent, .memoryUsedBytes'"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const every = intervalMs(args.interval);
      const stop = new AbortController();
      const stream = conn.client.streamMetrics({ intervalMs: every }, { signal: stop.signal });
      const view = (s: NodeMetrics, prev: NodeMetrics | undefined, width: number, live: boolean) =>
        renderMetrics(s, prev, { width, address: conn.target.display, intervalMs: every, live });

      if (!args.watch) {
        // The first sample may come without rates (they need two reads); the second has them.
        let previous: NodeMetrics | undefined;
        for await (const sample of stream) {
          if (previous) {
            stop.abort();
            out(
              args.json
                ? metricsJson(sample)
                : renderMetrics(sample, previous, {
                    width: Number.MAX_SAFE_INTEGER,
                    address: conn.target.display,
                    intervalMs: every,
                    live: false,
                    once: true,
                  }).join("\n"),
            );
            return;
          }
          previous = sample;
        }
        throw new Error("the daemon ended the metrics stream before sending a sample");
      }

      const screen: Screen | undefined = args.json || !process.stdout.isTTY ? undefined : createTerminalScreen(process.stdin, process.stdout);
      const quit = () => stop.abort();
      process.on("SIGINT", quit);
      process.on("SIGTERM", quit);
      screen?.onKey((key) => {
        if (key === "q" || key === "Q" || key === "\x03" || key === "\x1b") quit();
      });
      let previous: NodeMetrics | undefined;
      try {
        for await (const sample of stream) {
          if (args.json) out(metricsJson(sample));
          else if (screen) screen.draw(view(sample, previous, screen.width(), true));
          else out(`${view(sample, previous, Number.MAX_SAFE_INTEGER, false).join("\n")}\n`);
          previous = sample;
        }
        if (!stop.signal.aborted) throw new Error("the daemon ended the metrics stream (is it shutting down?)");
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      } finally {
        process.off("SIGINT", quit);
        process.off("SIGTERM", quit);
        screen?.restore();
      }
    }),
});
