export { IGNORE_ACPI_LABEL, type MockOptions } from "./context.ts";
export { createMockHypervisor } from "./mock-hypervisor.ts";
