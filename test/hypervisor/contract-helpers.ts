// Assertions shared by the contract and the mock-only tests.

import { connect } from "node:net";
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

/** The first 12 bytes a server sends on host:port: an RFB server's version greeting. */
export function rfbGreeting(port: number, host = "127.0.0.1", ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no RFB greeting from ${host}:${port} within ${ms} ms (got ${JSON.stringify(got.toString())})`)), ms);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(got.subarray(0, 12).toString("latin1"));
    };
    socket.on("data", (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 12) finish();
    });
    socket.on("error", (e) => finish(e));
    socket.on("close", () => finish(new Error(`${host}:${port} closed after ${got.length} bytes`)));
  });
}
