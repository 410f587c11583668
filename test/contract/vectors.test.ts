// The control plane's own bytes (test/fixtures/cp-wire/vectors.json, copied verbatim from the
// contract) against our generated schema. A failure here means the proto disagrees with the
// control plane: fix the proto, never the vectors.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRegistry, equals, fromBinary, fromJson, toBinary, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import { file_limiquantix_node_v1_node_daemon } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { firstByteDiff, firstDifference, fromHex, toHex, unknownFields, wireTypeMismatches } from "./wire-helpers.ts";

interface Vector {
  rpc: string;
  direction: "request" | "response";
  message: string;
  note: string;
  json: JsonValue;
  hex: string;
}

const { vectors } = JSON.parse(readFileSync(new URL("../fixtures/cp-wire/vectors.json", import.meta.url), "utf8")) as { vectors: Vector[] };

const registry = createRegistry(file_limiquantix_node_v1_node_daemon);

function schemaOf(v: Vector): DescMessage {
  const schema = registry.getMessage(v.message);
  if (!schema) {
    throw new Error(`the project does not define ${v.message}, which the control plane uses as the ` + `${v.direction} of ${v.rpc}`);
  }
  return schema;
}

/** The vector's JSON read strictly (proto field names, no unknown keys) with our schema. */
function expectedOf(schema: DescMessage, v: Vector): Message {
  try {
    return fromJson(schema, v.json);
  } catch (err) {
    throw new Error(`the control plane's ${v.message} does not fit our schema: ${(err as Error).message}`);
  }
}

/** Why our encoding of a response differs from the control plane's bytes; undefined when equal. */
function responseMismatch(schema: DescMessage, expected: Message, cpHex: string): string | undefined {
  const ours = toHex(toBinary(schema, expected));
  if (ours === cpHex) return undefined;
  const at = firstByteDiff(ours, cpHex);
  const cpBytes = fromHex(cpHex);
  const wrongWireTypes = wireTypeMismatches(schema, cpBytes);
  const cpDecoded = wrongWireTypes.length ? undefined : fromBinary(schema, cpBytes);
  const fields = cpDecoded
    ? [...unknownFields(schema, cpDecoded), firstDifference(schema, cpDecoded, expected)].filter(Boolean).join("; ")
    : wrongWireTypes.join("; ");
  return [
    `our encoding differs from the control plane's at byte ${at}`,
    `  ours: ${ours.slice(at * 2, at * 2 + 24)}...`,
    `  cp:   ${cpHex.slice(at * 2, at * 2 + 24)}...`,
    fields ? `  the control plane's bytes read with our schema: ${fields}` : "  same fields and values: only the order or encoding of fields differs",
  ].join("\n");
}

describe("control-plane wire vectors", () => {
  test("the fixture holds vectors", () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  for (const v of vectors) {
    const name = `${v.rpc} ${v.direction}${v.note ? `: ${v.note}` : ""}`;

    if (v.direction === "request") {
      test(name, () => {
        const schema = schemaOf(v);
        const bytes = fromHex(v.hex);
        expect(wireTypeMismatches(schema, bytes)).toEqual([]);
        const decoded = fromBinary(schema, bytes);
        // A field we do not define means our numbering disagrees with the control plane's.
        expect(unknownFields(schema, decoded)).toEqual([]);
        const expected = expectedOf(schema, v);
        expect(firstDifference(schema, decoded, expected)).toBeUndefined();
        expect(equals(schema, decoded, expected)).toBe(true);
        // Round trip: nothing lost, nothing added.
        expect(toHex(toBinary(schema, decoded))).toBe(v.hex);
      });
    } else {
      test(name, () => {
        const schema = schemaOf(v);
        const expected = expectedOf(schema, v);
        expect(responseMismatch(schema, expected, v.hex)).toBeUndefined();
      });
    }
  }
});
