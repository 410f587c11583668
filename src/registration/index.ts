export { backoffDelay, backoffCeiling, defaultBackoff, type BackoffOptions, type Jitter } from "./backoff.ts";
export { describeRegistration } from "./describe.ts";
export { detectManagementIp, managementEndpoint, type InterfaceMap } from "./management-ip.ts";
export { buildHeartbeatRequest, buildRegisterRequest, type HeartbeatFigures } from "./messages.ts";
export { loadNodeId, saveNodeId } from "./node-id-store.ts";
export {
  createRegistrar,
  clampIntervalSecs,
  heartbeatFailuresBeforeReregister,
  type Registrar,
  type RegistrarDeps,
  type RegistrarLogger,
  type RegistrationPhase,
  type RegistrationStatus,
} from "./registrar.ts";
export { createControlPlaneClient, defaultHttpVersion, type Encoding, type HttpVersion } from "./transport.ts";
