// The Rust node's own storage RPCs and messages (contract section 3.1 and 3.2), transcribed by
// hand from /work/shared/node-daemon-contract.md like contract-table.ts; checked against the
// generated descriptors by rust-storage-numbers.test.ts. Do not regenerate it from the proto.

import { EMPTY, type ContractRpc } from "./contract-table.ts";

export const RUST_STORAGE_RPCS: readonly ContractRpc[] = [
  ["ListVolumes", "ListVolumesRequest", "ListVolumesResponse", "unary"],
  ["ListImages", EMPTY, "ListImagesResponse", "unary"],
];

export const RUST_STORAGE_MESSAGES: Readonly<Record<string, readonly string[]>> = {
  ListVolumesRequest: ["1 pool_id string"],
  VolumeInfoResponse: ["1 volume_id string", "2 pool_id string", "3 size_bytes uint64", "4 format string", "5 path string", "6 attached_to string"],
  ListVolumesResponse: ["1 volumes repeated VolumeInfoResponse"],
  ImageInfo: ["1 image_id string", "2 name string", "3 path string", "4 size_bytes uint64", "5 format string"],
  ListImagesResponse: ["1 images repeated ImageInfo"],
};
