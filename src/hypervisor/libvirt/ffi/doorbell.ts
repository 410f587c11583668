// A doorbell for the event Worker: a Linux eventfd the Worker watches in libvirt's event loop
// and the API thread writes to after posting it a message. Without one the loop would have to
// wake on a timer to look for messages; with it, an idle loop sleeps until libvirt or the API
// thread has something for it. Absent where eventfd is (macOS): the caller keeps its timer.

import { dlopen, ptr } from "bun:ffi";

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

export interface Doorbell {
  readonly fd: number;
  /**
   * Empties the counter, so the fd stops being readable until the next ring, and says how many
   * rings it held (0 when there were none).
   */
  drain(): number;
  close(): void;
}

let libc: ReturnType<typeof openLibc> | undefined;
function openLibc() {
  return dlopen("libc.so.6", {
    eventfd: { args: ["u32", "i32"], returns: "i32" },
    read: { args: ["i32", "ptr", "u64"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
  }).symbols;
}

/** A fresh doorbell, or undefined where this system has no eventfd. */
export function openDoorbell(): Doorbell | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    libc ??= openLibc();
  } catch {
    return undefined;
  }
  const c = libc;
  const fd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return undefined;
  const counter = new BigUint64Array(1);
  let open = true;
  return {
    fd,
    drain() {
      // read() gives the bytes read as an i64 (a BigInt): 8, or -1 with EAGAIN when unrung.
      if (!open || Number(c.read(fd, ptr(counter), 8)) !== 8) return 0;
      return Number(counter[0]);
    },
    close() {
      if (!open) return;
      open = false;
      c.close(fd);
    },
  };
}

/** What the API thread writes to ring it (an eventfd takes 8-byte counter increments). */
export const DOORBELL_RING = new Uint8Array(new BigUint64Array([1n]).buffer);
