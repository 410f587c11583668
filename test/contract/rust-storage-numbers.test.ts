// The Rust node's storage RPCs we serve (ListVolumes, ListImages) against the contract's section
// 3: names, kinds, field numbers and types below 100 (our extras start at 100).
import { describe, expect, test } from "bun:test";
import { createRegistry } from "@bufbuild/protobuf";
import { file_limiquantix_node_v1_node_daemon, NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { EMPTY, PACKAGE } from "./contract-table.ts";
import { RUST_STORAGE_MESSAGES, RUST_STORAGE_RPCS } from "./rust-storage-table.ts";
import { contractRangeRows, parseRows } from "./wire-helpers.ts";

const registry = createRegistry(file_limiquantix_node_v1_node_daemon);
const rows = (name: string) => (name === EMPTY ? [] : parseRows(RUST_STORAGE_MESSAGES[name] ?? []));

describe("the Rust node's storage RPCs", () => {
  const methods = new Map(NodeDaemonService.methods.map((m) => [m.name, m]));
  for (const [rpc, request, response, kind] of RUST_STORAGE_RPCS) {
    test(`${rpc}: ${kind}, request reads as ${request}, response as ${response}`, () => {
      const m = methods.get(rpc);
      expect(m?.methodKind).toBe(kind);
      expect(contractRangeRows(m!.input)).toEqual(rows(request));
      expect(contractRangeRows(m!.output)).toEqual(rows(response));
    });
  }
  for (const name of Object.keys(RUST_STORAGE_MESSAGES)) {
    test(`${name}: the contract's fields, extras from 100`, () => {
      const schema = registry.getMessage(`${PACKAGE}.${name}`);
      expect(schema).toBeDefined();
      expect(contractRangeRows(schema!)).toEqual(rows(name));
    });
  }
});
