// The UI's calls when the browser aborts a request because the network changed (fetch rejects with
// a TypeError before any answer): a read (or a POST its caller
// marks repeatable) is sent again, a call that changes something is not.

import { afterEach, expect, test } from "bun:test";
import { call, rest } from "../../src/ui/api.ts";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** A fetch that fails `failures` times with the browser's network error, then answers `{}`. */
function flakyFetch(failures: number): { sent: string[] } {
  const sent: string[] = [];
  globalThis.fetch = (async (url: string) => {
    sent.push(String(url));
    if (sent.length <= failures) throw new TypeError("Failed to fetch");
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  }) as unknown as typeof fetch;
  return { sent };
}

test("a read survives two network changes in a row", async () => {
  const f = flakyFetch(2);
  expect(await call("GetVMStatus", { vmId: "x" })).toEqual({});
  expect(f.sent.length).toBe(3);
  const g = flakyFetch(1);
  expect(await rest("GET", "/ui/history")).toEqual({});
  expect(g.sent.length).toBe(2);
  // A console ticket may be asked for twice (the unused one expires).
  const t = flakyFetch(1);
  expect(await rest("POST", "/console/ticket", { vmId: "x" }, true)).toEqual({});
  expect(t.sent.length).toBe(2);
});

test("a read fails after three network errors; a call that changes something is sent once", async () => {
  const f = flakyFetch(3);
  await expect(call("ListVMs")).rejects.toThrow("Failed to fetch");
  expect(f.sent.length).toBe(3);
  const g = flakyFetch(2);
  await expect(call("DeleteVM", { vmId: "x" })).rejects.toThrow("Failed to fetch");
  await expect(rest("POST", "/console/ticket", { vmId: "x" })).rejects.toThrow("Failed to fetch");
  expect(g.sent.length).toBe(2);
  // A console ticket may be asked for twice (the unused one expires).
  const t = flakyFetch(1);
  expect(await rest("POST", "/console/ticket", { vmId: "x" }, true)).toEqual({});
  expect(t.sent.length).toBe(2);
});
