import { describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { classifyFailure, createOptionalRpcs, type Failure } from "../../src/registration/optional-rpcs.ts";
import { recordingLogger } from "./helpers.ts";

describe("classifyFailure", () => {
  const table: [string, unknown, Failure][] = [
    ["unimplemented", new ConnectError("x", Code.Unimplemented), "unsupported"],
    ["unavailable (connection refused)", new ConnectError("x", Code.Unavailable), "retry"],
    ["deadline exceeded", new ConnectError("x", Code.DeadlineExceeded), "retry"],
    ["HTTP 500 without a Connect body", new ConnectError("HTTP 500", Code.Unknown), "retry"],
    ["internal", new ConnectError("x", Code.Internal), "retry"],
    ["invalid argument", new ConnectError("x", Code.InvalidArgument), "drop"],
    ["not found", new ConnectError("x", Code.NotFound), "drop"],
    ["not a Connect error", new Error("bug"), "drop"],
  ];
  for (const [name, err, want] of table) test(name, () => expect(classifyFailure(err)).toBe(want));
});

describe("optional RPCs", () => {
  test("unsupported: off until reset, announced at info once per RPC", () => {
    const log = recordingLogger();
    const rpcs = createOptionalRpcs(log, () => new Date(0));
    const unimplemented = new ConnectError("not implemented", Code.Unimplemented);
    expect(rpcs.supported("SyncFullState")).toBe(true);
    expect(rpcs.failed("SyncFullState", unimplemented)).toBe("unsupported");
    expect(rpcs.supported("SyncFullState")).toBe(false);
    expect(rpcs.supported("NotifyVMChange")).toBe(true);
    rpcs.reset();
    expect(rpcs.supported("SyncFullState")).toBe(true);
    rpcs.failed("SyncFullState", unimplemented);
    expect(log.lines.filter((l) => l.level === "info" && /does not support SyncFullState/.test(l.message))).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === "warn" || l.level === "error")).toHaveLength(0);
  });

  test("other failures: one warning per RPC per minute, then a count of what was held back", () => {
    const log = recordingLogger();
    let t = 0;
    const rpcs = createOptionalRpcs(log, () => new Date(t), 60_000);
    const err = new ConnectError("connect ECONNREFUSED", Code.Unavailable);
    for (let i = 0; i < 5; i++) rpcs.failed("NotifyVMChange", err);
    rpcs.failed("SyncNodeVMs", err);
    t = 60_000;
    rpcs.failed("NotifyVMChange", err);
    const warnings = log.lines.filter((l) => l.level === "warn").map((l) => l.message);
    expect(warnings).toEqual([
      "NotifyVMChange failed: connect ECONNREFUSED",
      "SyncNodeVMs failed: connect ECONNREFUSED",
      "NotifyVMChange failed: connect ECONNREFUSED (4 more failures since the last report)",
    ]);
  });
});
