// The telemetry concern's public surface.

export type * from "./types.ts";
export { createTelemetry, type TelemetryDeps } from "./telemetry.ts";
export { type HostIo, nodeHostIo } from "./host-io.ts";
export { TelemetryParseError } from "./parse-error.ts";
