// The control plane's encoded messages (test/fixtures/cp-wire/vectors.json) for tests that put
// them on the wire. A vector is sent as its bytes; where a vector names a host path this machine
// does not have (a pool directory, a cloud image), the test changes that one field through the
// project's types and leaves every other byte as the control plane encoded it.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";

interface Vector {
  rpc: string;
  direction: "request" | "response";
  message: string;
  note?: string;
  json: unknown;
  hex: string;
}

const vectors: Vector[] = JSON.parse(readFileSync(join(import.meta.dir, "../fixtures/cp-wire/vectors.json"), "utf8")).vectors;

/** The request vector of rpc whose note contains `note` (the first when note is omitted). */
export function vector(rpc: string, note = "", direction: Vector["direction"] = "request"): Vector {
  const v = vectors.find((x) => x.rpc === rpc && x.direction === direction && (x.note ?? "").includes(note));
  if (!v) throw new Error(`no ${direction} vector for ${rpc} with a note containing ${JSON.stringify(note)}`);
  return v;
}

export const bytesOf = (v: Vector): Uint8Array => new Uint8Array(Buffer.from(v.hex, "hex"));

/** The vector's bytes with one change made through the project's generated type. */
export function rewritten<D extends DescMessage>(v: Vector, schema: D, change: (m: MessageShape<D>) => void): Uint8Array {
  const message = fromBinary(schema, bytesOf(v));
  change(message);
  return toBinary(schema, message);
}
