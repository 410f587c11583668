// VMStatus for binary encodings (gRPC, gRPC-Web, Connect with protobuf), encoded once per status
// instead of once per call. A backend that hands out the same frozen VmStatus object for as long
// as the VM is unchanged (the mock does) gets its encoding reused: ListVMs over 10,000 VMs then
// copies bytes instead of converting and encoding 10,000 messages (bench/: scale). Statuses that
// are not frozen (libvirt builds fresh ones from each read) are encoded every time, as before.
//
// protobuf-es writes a message's `$unknown` fields verbatim (tag, then data), so encoded fields
// ride in `$unknown` and land on the wire as the real fields. A JSON encoder skips `$unknown`,
// which is why JSON requests must use vmStatusToWire.

import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import {
  type ListVMsResponse,
  ListVMsResponseSchema,
  type VMStatus,
  VMStatusSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmStatus } from "../../hypervisor/types.ts";
import { vmStatusToWire } from "./vm-status.ts";

/** Keyed by the status object: a frozen status never changes, so neither does its encoding. */
const encodings = new WeakMap<VmStatus, Uint8Array>();

/** The protobuf encoding of one VMStatus. */
export function vmStatusBytes(v: VmStatus): Uint8Array {
  const cached = encodings.get(v);
  if (cached) return cached;
  const bytes = toBinary(VMStatusSchema, vmStatusToWire(v));
  if (Object.isFrozen(v)) encodings.set(v, bytes);
  return bytes;
}

/** GetVMStatus for protobuf clients: the status's cached encoding as the message's fields. */
export function vmStatusToWireBinary(v: VmStatus): VMStatus {
  const status = create(VMStatusSchema);
  const bytes = vmStatusBytes(v);
  if (bytes.length > 0) status.$unknown = [asUnknownField(bytes)];
  return status;
}

const VMS_FIELD = ListVMsResponseSchema.field.vms!.number;
const VMS_TAG = (VMS_FIELD << 3) | WireType.LengthDelimited;

/** The last ListVMs answer built, reused while the page holds the very same (frozen) statuses. */
let lastList: { vms: readonly VmStatus[]; entries: Uint8Array } | undefined;

/** ListVMs for protobuf clients: every VM's cached encoding framed as `vms` entries in one buffer. */
export function listVmsResponseBinary(vms: readonly VmStatus[], nextPageToken: string, totalCount: number): ListVMsResponse {
  const response = create(ListVMsResponseSchema, { nextPageToken, totalCount });
  if (vms.length === 0) return response;
  // An unchanged host answers the same bytes: comparing object identities is a scan of one
  // array, where looking every status up would touch each VM's memory again.
  if (lastList && sameStatuses(lastList.vms, vms)) {
    response.$unknown = [asUnknownField(lastList.entries)];
    return response;
  }
  const entries = frameEntries(vms.map(vmStatusBytes));
  if (vms.every((v) => Object.isFrozen(v))) lastList = { vms, entries };
  response.$unknown = [asUnknownField(entries)];
  return response;
}

function sameStatuses(a: readonly VmStatus[], b: readonly VmStatus[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every encoded status behind the `vms` tag and its length, in one buffer. */
function frameEntries(parts: readonly Uint8Array[]): Uint8Array {
  // Sized once: a growing writer would allocate and copy the multi-megabyte answer repeatedly.
  let size = 0;
  for (const p of parts) size += varintSize(VMS_TAG) + varintSize(p.length) + p.length;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const p of parts) {
    pos = writeVarint(out, pos, VMS_TAG);
    pos = writeVarint(out, pos, p.length);
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Splits encoded fields into the first tag and everything after it, as `$unknown` holds them.
 * For several fields, the one unknown "field" runs on over all the following ones: written as
 * tag + data, the bytes go out unchanged (a reader sees field 1, then field 1 again, ...).
 */
function asUnknownField(bytes: Uint8Array): { no: number; wireType: WireType; data: Uint8Array } {
  const reader = new BinaryReader(bytes);
  const [no, wireType] = reader.tag();
  return { no, wireType, data: bytes.subarray(reader.pos) };
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}

/** Does this request's content type ask for protobuf (every gRPC, gRPC-Web and Connect variant but JSON)? */
export function wantsBinary(contentType: string | null): boolean {
  return contentType !== null && !/json/i.test(contentType);
}
