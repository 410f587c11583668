// The resize rule both backends apply: volumes only grow.

import { HypervisorError } from "../errors.ts";
import { LIMITS } from "../validation-checks.ts";

/**
 * The largest size a volume may be given: 64 TiB, the same cap new images have. Far beyond any
 * disk this node manages, it catches unit mistakes (bytes sent where GiB were meant) before
 * QEMU tries to allocate metadata for them.
 */
export const MAX_VOLUME_BYTES = LIMITS.imageBytesMax;

/** QEMU resizes in whole 512-byte sectors. */
export const SECTOR_BYTES = 512;

/**
 * "grow" when newBytes is larger, "unchanged" when equal. Shrinking (it would cut the end off
 * the guest's filesystem), sizes that are not whole sectors and absurd sizes are invalid_argument
 * naming the field new_size_bytes.
 */
export function growOnly(volume: string, currentBytes: number, newBytes: number): "grow" | "unchanged" {
  const field = "new_size_bytes";
  if (!Number.isSafeInteger(newBytes) || newBytes <= 0) {
    throw new HypervisorError("invalid_argument", `${field}: must be a positive number of bytes, got ${newBytes}`, field);
  }
  if (newBytes > MAX_VOLUME_BYTES) {
    throw new HypervisorError(
      "invalid_argument",
      `${field}: ${newBytes} bytes is more than the ${MAX_VOLUME_BYTES} bytes (64 TiB) a volume may have; was GiB meant?`,
      field,
    );
  }
  if (newBytes % SECTOR_BYTES !== 0) {
    throw new HypervisorError("invalid_argument", `${field}: must be a multiple of ${SECTOR_BYTES} bytes, got ${newBytes}`, field);
  }
  if (newBytes < currentBytes) {
    throw new HypervisorError(
      "invalid_argument",
      `${field}: volume ${volume} is ${currentBytes} bytes; shrinking to ${newBytes} would lose data (volumes only grow)`,
      field,
    );
  }
  return newBytes === currentBytes ? "unchanged" : "grow";
}
