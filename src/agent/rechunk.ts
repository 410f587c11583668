// File transfers to a guest go in chunks of one size (64 KiB), whatever sizes the caller's
// source yields.

/** Re-chunks any byte source into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let held = new Uint8Array(size);
  let n = 0;
  for await (const piece of source) {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(size - n, piece.length - at);
      held.set(piece.subarray(at, at + take), n);
      n += take;
      at += take;
      if (n === size) {
        yield held;
        held = new Uint8Array(size);
        n = 0;
      }
    }
  }
  if (n > 0) yield held.subarray(0, n);
}
