// The generated descriptors against the contract table (contract section 2): RPC names and
// streaming kinds, field numbers, names and types, enum numbers. Numbers 100 and up are the
// project's own extras and may appear anywhere; below 100 everything must be the contract's.
import { describe, expect, test } from "bun:test";
import { createRegistry, type DescMessage } from "@bufbuild/protobuf";
import { file_limiquantix_node_v1_node_daemon, NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { CONTRACT_ENUMS, CONTRACT_MESSAGES, CONTRACT_RPCS, EMPTY, PACKAGE, REQUIRED_RPCS } from "./contract-table.ts";
import { contractRangeRows, parseRows, type FieldRow } from "./wire-helpers.ts";

const registry = createRegistry(file_limiquantix_node_v1_node_daemon);

/** The contract's fields of a message; google.protobuf.Empty has none. */
function contractRows(message: string): FieldRow[] {
  if (message === EMPTY) return [];
  const rows = CONTRACT_MESSAGES[message];
  if (!rows) throw new Error(`contract table: no message ${message}`);
  return parseRows(rows);
}

/**
 * How the control plane's message reads with ours: the same message, or one of ours whose
 * fields below 100 are exactly the contract message's (none for google.protobuf.Empty).
 */
function expectReadsAs(ours: DescMessage, contract: string): void {
  expect({ message: ours.typeName, fields: contractRangeRows(ours) }).toEqual({ message: ours.typeName, fields: contractRows(contract) });
}

describe("service", () => {
  test("is limiquantix.node.v1.NodeDaemonService (the gRPC path the control plane calls)", () => {
    expect(NodeDaemonService.typeName).toBe(`${PACKAGE}.NodeDaemonService`);
  });

  test("the contract table names every required RPC", () => {
    const known = new Set(CONTRACT_RPCS.map(([rpc]) => rpc));
    expect(REQUIRED_RPCS.filter((rpc) => !known.has(rpc))).toEqual([]);
  });

  const methods = new Map(NodeDaemonService.methods.map((m) => [m.name, m]));
  for (const [rpc, request, response, kind] of CONTRACT_RPCS) {
    const method = methods.get(rpc);
    const required = REQUIRED_RPCS.includes(rpc);
    if (!method && !required) continue; // a contract RPC the control plane never calls, not served

    test(`${rpc} is served, ${kind}`, () => {
      expect(method?.name).toBe(rpc);
      expect(method?.methodKind).toBe(kind);
    });
    if (!method) continue;

    test(`${rpc} request ${method.input.name} reads as the contract's ${request}`, () => {
      expectReadsAs(method.input, request);
    });
    test(`${rpc} response ${method.output.name} reads as the contract's ${response}`, () => {
      expectReadsAs(method.output, response);
    });
  }
});

describe("messages", () => {
  for (const name of Object.keys(CONTRACT_MESSAGES)) {
    const schema = registry.getMessage(`${PACKAGE}.${name}`);
    // Not defined by the project: fine unless an RPC needs it, and then the RPC tests fail (the
    // field types they compare name the contract's messages).
    if (!schema) continue;

    test(`${name}: contract fields, extras numbered 100 and up`, () => {
      expect(contractRangeRows(schema)).toEqual(contractRows(name));
    });
  }
});

describe("enums", () => {
  for (const [name, values] of Object.entries(CONTRACT_ENUMS)) {
    const schema = registry.getEnum(`${PACKAGE}.${name}`);
    if (!schema) continue; // not defined by the project

    test(`${name}: contract values, extras numbered 100 and up`, () => {
      const ours = schema.values.filter((v) => v.number < 100).map((v) => `${v.name} ${v.number}`);
      expect(ours).toEqual([...values]);
    });
  }
});
