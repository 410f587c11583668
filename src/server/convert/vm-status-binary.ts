// VMStatus for binary encodings (gRPC, gRPC-Web, Connect with protobuf), with the VM's spec
// added as bytes encoded once per spec instead of once per call. Specs change only on create,
// hot-plug and revert, and the spec is most of every VMStatus (ListVMs over 10,000 VMs spent
// two thirds of its encoding time on them; bench/: scale). protobuf-es writes a message's
// `$unknown` fields verbatim, so the bytes land as field `spec` on the wire; a JSON encoder
// skips them, which is why JSON requests must use vmStatusToWire.

import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type VMSpec, VMSpecSchema, type VMStatus, VMStatusSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmStatus } from "../../hypervisor/types.ts";
import { vmSpecToWire } from "./vm-spec.ts";
import { vmStatusToWire } from "./vm-status.ts";

const SPEC_FIELD = VMStatusSchema.field.spec!.number;

/** Keyed by the wire spec, which vmSpecToWire shares for as long as the model spec is unchanged. */
const specBytes = new WeakMap<VMSpec, Uint8Array>();

function specFieldBytes(spec: VMSpec): Uint8Array {
  let bytes = specBytes.get(spec);
  if (!bytes) {
    // An unknown field's data is everything after its tag: for a message, length then bytes.
    bytes = new BinaryWriter().bytes(toBinary(VMSpecSchema, spec)).finish();
    specBytes.set(spec, bytes);
  }
  return bytes;
}

export function vmStatusToWireBinary(v: VmStatus): VMStatus {
  const status = vmStatusToWire(v, { withSpec: false });
  status.$unknown = [{ no: SPEC_FIELD, wireType: WireType.LengthDelimited, data: specFieldBytes(vmSpecToWire(v.spec)) }];
  return status;
}

/** Does this request's content type ask for protobuf (every gRPC, gRPC-Web and Connect variant but JSON)? */
export function wantsBinary(contentType: string | null): boolean {
  return contentType !== null && !/json/i.test(contentType);
}
