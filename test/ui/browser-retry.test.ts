// retryOnNetworkChange (browser.ts): a navigation Chromium aborted with ERR_NETWORK_CHANGED (the
// host's interfaces changed under it) runs again, a bounded number of times; nothing else does.

import { expect, test } from "bun:test";
import { NETWORK_CHANGE_RETRIES, retryOnNetworkChange } from "./browser.ts";

const changed = () => new Error("page.goto: net::ERR_NETWORK_CHANGED at https://127.0.0.1:8443/\nCall log: ...");

test("retried after network changes, then the navigation's own answer", async () => {
  let calls = 0;
  const retried: string[] = [];
  const out = await retryOnNetworkChange(
    async () => {
      calls++;
      if (calls <= 2) throw changed();
      return "loaded";
    },
    NETWORK_CHANGE_RETRIES,
    (e) => retried.push(e.message),
  );
  expect(out).toBe("loaded");
  expect(calls).toBe(3);
  expect(retried).toHaveLength(2);
});

test("bounded: one change too many is thrown", async () => {
  let calls = 0;
  const failing = async () => {
    calls++;
    throw changed();
  };
  await expect(retryOnNetworkChange(failing, 3)).rejects.toThrow("ERR_NETWORK_CHANGED");
  expect(calls).toBe(4);
});

test("any other error is thrown at once", async () => {
  let calls = 0;
  const refused = async () => {
    calls++;
    throw new Error("page.goto: net::ERR_CONNECTION_REFUSED at https://127.0.0.1:1/");
  };
  await expect(retryOnNetworkChange(refused)).rejects.toThrow("ERR_CONNECTION_REFUSED");
  expect(calls).toBe(1);
});
