// Plain numbers to proto3 scalars. proto3 scalars have no presence, so a figure that could not
// be read (undefined), or one that makes no sense (NaN, negative), can only go on the wire as 0.

const UINT32_MAX = 0xffff_ffff;

/** A non-negative whole number for a uint64 field; undefined, NaN and negatives become 0. */
export function u64(value: number | undefined): bigint {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return 0n;
  return BigInt(Math.floor(value));
}

export function u32(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(UINT32_MAX, Math.floor(value));
}

/** Whole seconds since the epoch for an int64 field. */
export function unixSeconds(at: Date): bigint {
  return BigInt(Math.floor(at.getTime() / 1000));
}

export function finite(value: number | undefined, min = 0, max = Number.MAX_VALUE): number {
  if (value === undefined || !Number.isFinite(value)) return 0;
  return Math.min(max, Math.max(min, value));
}
