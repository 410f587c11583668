// Request bodies for h2load: one protobuf message behind gRPC's 5-byte prefix (flag 0 =
// uncompressed, then the big-endian length), written to a file h2load sends with -d.

import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

export function writeGrpcBody<D extends DescMessage>(dir: string, name: string, schema: D, init: MessageInitShape<D>): string {
  const path = join(dir, `${name}.grpc.bin`);
  writeFileSync(path, grpcFrame(toBinary(schema, create(schema, init))));
  return path;
}
