export { describeRegistration } from "./describe.ts";
export { detectManagementIp, managementEndpoint, type InterfaceMap } from "./management-ip.ts";
export { hypervisorVmSource } from "./hypervisor-vms.ts";
export {
  buildHeartbeatRequest,
  buildRegisterRequest,
  type HeartbeatFigures,
  type HeartbeatState,
  type StoragePoolReport,
} from "./messages.ts";
export { loadNodeId, saveNodeId } from "./node-id-store.ts";
export {
  createRegistrar,
  clampIntervalSecs,
  defaultBackoff,
  heartbeatFailuresBeforeReregister,
  type NodeVm,
  type NodeVmChange,
  type NodeVmSource,
  type Registrar,
  type RegistrarDeps,
  type RegistrarLogger,
  type RegistrationPhase,
  type RegistrationStatus,
} from "./registrar.ts";
export { stateHash } from "./state-hash.ts";
export { createControlPlaneClient, defaultHttpVersion, type Encoding, type HttpVersion } from "./transport.ts";
