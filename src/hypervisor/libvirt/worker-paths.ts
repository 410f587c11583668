// Where the Worker entry files are. From source they sit beside this module; inside a binary
// built with `bun build --compile src/main.ts src/hypervisor/libvirt/libvirt-call-worker.ts
// src/hypervisor/libvirt/libvirt-event-worker.ts`, Bun stores extra entrypoints relative to the
// entrypoints' common folder (src/), and resolves a relative Worker path against it.

export const CALL_WORKER_FILE = "libvirt-call-worker.ts";
export const EVENT_WORKER_FILE = "libvirt-event-worker.ts";

export function isCompiledBinary(mainPath: string = Bun.main): boolean {
  return mainPath.startsWith("/$bunfs/") || mainPath.startsWith("B:/~BUN/");
}

export function defaultWorkerPath(file: string, compiled = isCompiledBinary()): string {
  if (compiled) return `./hypervisor/libvirt/${file}`;
  return new URL(`./${file}`, import.meta.url).pathname;
}
