// The bun:ffi binding to libvirt: load it, then use the wrappers. Only Workers call these.
export * from "./library.ts";
export * from "./errors.ts";
export * from "./memory.ts";
export * from "./typed-params.ts";
export * from "./connection.ts";
export * from "./domain.ts";
export * from "./snapshot.ts";
export * from "./storage.ts";
export * from "./stats.ts";
export * from "./events.ts";
export * from "./doorbell.ts";
export * from "./qemu-agent.ts";
