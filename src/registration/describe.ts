// One line about registration for HealthCheck and GetNodeInfo.
import type { RegistrationStatus } from "./registrar.ts";

export function describeRegistration(status: RegistrationStatus | undefined): string {
  if (status === undefined) return "registration disabled";
  const id = status.nodeId === undefined ? "" : ` as node ${status.nodeId}`;
  switch (status.phase) {
    case "idle":
      return status.lastError === undefined ? "registration not running" : `registration stopped: ${status.lastError}`;
    case "registering":
      return `registering with control plane${id}`;
    case "registered": {
      const beat = status.lastHeartbeatAt === undefined ? "no heartbeat yet" : `last heartbeat ${status.lastHeartbeatAt.toISOString()}`;
      return `registered${id}; ${beat}; heartbeat every ${status.intervalSecs} s`;
    }
    case "retrying":
      return `control plane unreachable${id}: ${status.lastError ?? "unknown error"}; retrying`;
  }
}
