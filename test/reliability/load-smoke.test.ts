// bench/load.ts stays runnable: a short run with fewer clients finishes on its own, with no
// unexpected error and every subscription released. The figures come from the full run.

import { expect, test } from "bun:test";
import { runLoad } from "../../bench/load.ts";

test("a 3-second load run: zero unexpected errors, nothing left open", async () => {
  const { rows, ok } = await runLoad({ seconds: 3, clients: 8, connections: 2, subscribers: 4, log: () => {} });
  const row = (name: string) => rows.find((r) => r.name === name);
  expect(row("unexpected errors")?.value).toBe(0);
  expect(row("subscriptions left open after the clients left")?.value).toBe(0);
  expect(row("all calls: requests per second")!.value).toBeGreaterThan(0);
  expect(row("events delivered per StreamEvents subscriber")!.value).toBeGreaterThan(0);
  expect(rows.map((r) => r.name)).toContain("migrate: requests per second");
  expect(ok).toBe(true);
}, 20_000);
