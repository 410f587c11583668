// The libvirt backend. Loaded only when the config asks for it, so a host without libvirt can
// still run the mock; loading libvirt itself happens in the Workers, at start.
export { createLibvirtHypervisor, type LibvirtHypervisorOptions } from "./libvirt-hypervisor.ts";
export { CALL_WORKER_FILE, EVENT_WORKER_FILE, defaultWorkerPath } from "./worker-paths.ts";
