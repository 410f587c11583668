// libvirt-qemu's one call the node makes: a command to the QEMU guest agent (qemu-ga) inside a
// domain, through the channel libvirt itself keeps open to it (virDomainQemuAgentCommand,
// libvirt-qemu.h). A separate library from libvirt proper, loaded once per thread on first use;
// its errors land in libvirt's per-thread error store, read as for any other call.

import { dlopen, type FFIFunction } from "bun:ffi";
import { HypervisorError } from "../../errors.ts";
import type { Connection } from "./connection.ts";
import { fail } from "./errors.ts";
import { cstr, type RawPtr, takeString } from "./memory.ts";

const symbols = {
  virDomainQemuAgentCommand: { args: ["ptr", "ptr", "i32", "u32"], returns: "ptr" },
} as const satisfies Record<string, FFIFunction>;

/** Names tried in order: the runtime package (libvirt0) ships only the soname. */
export const LIBVIRT_QEMU_NAMES = ["libvirt-qemu.so.0", "libvirt-qemu.so"] as const;

type QemuSymbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let loaded: QemuSymbols | undefined;

function loadLibvirtQemu(): QemuSymbols {
  if (loaded) return loaded;
  const failures: string[] = [];
  for (const name of LIBVIRT_QEMU_NAMES) {
    try {
      loaded = dlopen(name, symbols).symbols;
      return loaded;
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new HypervisorError(
    "unsupported",
    `cannot load libvirt-qemu (${failures.join("; ")}); it comes with the libvirt client library (Debian/Ubuntu: libvirt0)`,
  );
}

/**
 * Sends one qemu-ga command (its JSON, e.g. {"execute":"guest-ping"}) and returns qemu-ga's JSON
 * answer. Blocks the calling Worker for up to timeoutSeconds (libvirt's own timeout: -2 waits
 * forever, -1 its default; the node always passes a bound).
 */
export function qemuAgentCommand(c: Connection, d: Parameters<QemuSymbols["virDomainQemuAgentCommand"]>[0], command: string, timeoutSeconds: number): string {
  const raw = loadLibvirtQemu().virDomainQemuAgentCommand(d, cstr(command), Math.max(0, Math.floor(timeoutSeconds)), 0) as RawPtr;
  return takeString(c.lv, raw) ?? fail(c.lv, "QEMU guest agent command");
}
