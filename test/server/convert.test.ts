// The server's one error mapping (every failure kind to its gRPC code) and ListVMs' pages.
// The spec, enum, event and name conversions have their own files (convert-*.test.ts).

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import { HypervisorError, notFound } from "../../src/hypervisor/errors.ts";
import { EventBusError } from "../../src/events/event-bus.ts";
import { toConnectError } from "../../src/server/errors.ts";
import { paginate } from "../../src/server/services/paginate.ts";
import type { VmStatus } from "../../src/hypervisor/types.ts";

describe("error mapping", () => {
  test.each([
    ["not_found", Code.NotFound],
    ["already_exists", Code.AlreadyExists],
    ["invalid_state", Code.FailedPrecondition],
    ["invalid_argument", Code.InvalidArgument],
    ["unavailable", Code.Unavailable],
    ["timeout", Code.DeadlineExceeded],
    ["resource_exhausted", Code.ResourceExhausted],
    ["unsupported", Code.FailedPrecondition],
    ["cancelled", Code.Canceled],
    ["internal", Code.Internal],
  ] as const)("%s -> %s", (kind, code) => {
    const err = toConnectError(new HypervisorError(kind, "msg"));
    expect(err.code).toBe(code);
    expect(err.rawMessage).toBe("msg");
  });

  test("an unknown VM is NOT_FOUND with the text the control plane matches", () => {
    const id = "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20";
    const err = toConnectError(notFound(id));
    expect([err.code, err.rawMessage]).toEqual([Code.NotFound, `VM not found: ${id} is not defined on this node`]);
    // grpc-go renders it as "rpc error: code = NotFound desc = VM not found: ...": both of the
    // control plane's substrings ("VM not found", "not found") are in it.
    expect(err.rawMessage).toContain("VM not found");
    expect(err.rawMessage).toContain("not found");
  });

  test("unexpected errors are INTERNAL without their details, and reported with them", () => {
    const reported: unknown[] = [];
    const cause = new Error("ENOENT: /root/secret/thing");
    const err = toConnectError(cause, (e) => reported.push(e));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).not.toContain("/root");
    expect(reported).toEqual([cause]);
  });

  test("event bus errors: gone is OUT_OF_RANGE, too slow is RESOURCE_EXHAUSTED", () => {
    expect(toConnectError(new EventBusError("gone", "x")).code).toBe(Code.OutOfRange);
    expect(toConnectError(new EventBusError("too_slow", "x")).code).toBe(Code.ResourceExhausted);
  });

  test("ConnectErrors pass through unchanged", () => {
    const e = new ConnectError("x", Code.Aborted);
    expect(toConnectError(e)).toBe(e);
  });
});

describe("pagination", () => {
  const vms = ["c", "a", "d", "b", "e"].map((id) => ({ id }) as VmStatus);

  test("page size 0 returns all in backend order", () => {
    expect(paginate(vms, 0, "").items.map((v) => v.id)).toEqual(["c", "a", "d", "b", "e"]);
  });

  test("pages walk the ids in order and end with an empty token", () => {
    const p1 = paginate(vms, 2, "");
    const p2 = paginate(vms, 2, p1.nextPageToken);
    const p3 = paginate(vms, 2, p2.nextPageToken);
    expect([p1, p2, p3].map((p) => p.items.map((v) => v.id))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(p3.nextPageToken).toBe("");
  });

  test("a VM deleted between pages does not shift the next page", () => {
    const p1 = paginate(vms, 2, "");
    const p2 = paginate(
      vms.filter((v) => v.id !== "a"),
      2,
      p1.nextPageToken,
    );
    expect(p2.items.map((v) => v.id)).toEqual(["c", "d"]);
  });

  test("a forged token is INVALID_ARGUMENT naming page_token", () => {
    expect(() => paginate(vms, 2, "garbage")).toThrow("page_token");
  });
});
