// One way for a page to run an action the operator asked for: the call, then a line in the status
// bar saying it was done or why it failed (the page redraws after either).

import { call } from "./api.ts";
import { flash } from "./dom.ts";

/** Calls method; the status line says "<what> done" or "<what> failed: <reason>". True when done. */
export async function callReporting(what: string, method: string, request: object): Promise<boolean> {
  try {
    await call(method, request);
    flash(`${what} done`);
    return true;
  } catch (e) {
    flash(`${what} failed: ${(e as Error).message}`, "error");
    return false;
  }
}
