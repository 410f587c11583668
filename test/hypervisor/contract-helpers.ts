// Assertions shared by the contract and the mock-only tests.

import { expect } from "bun:test";
import { type HypervisorErrorKind, isHypervisorError } from "../../src/hypervisor/errors.ts";

export async function expectKind(promise: Promise<unknown>, kind: HypervisorErrorKind): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (!isHypervisorError(err)) throw new Error(`expected a HypervisorError(${kind}), got ${String(err)}`);
    expect(err.kind).toBe(kind);
    return err;
  }
  throw new Error(`expected a HypervisorError(${kind}), but the call succeeded`);
}

/** Polls until pred holds (events may arrive asynchronously from a libvirt event loop). */
export async function eventually<T>(probe: () => T | undefined, what: string, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}
