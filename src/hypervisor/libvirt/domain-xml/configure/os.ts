// <os> (machine, firmware) and <features>. Boot order is per device (<boot order>), so no
// <boot dev> here: libvirt rejects the two together.

import type { Firmware } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import type { FeaturesDef, OsDef } from "../model.ts";

export interface UefiInput {
  loaderPath: string;
  nvramTemplate?: string;
  nvramPath: string;
  secure?: boolean;
}

export function configureOs(firmware: Firmware, machine: string, uefi: UefiInput | undefined) {
  const os: OsDef = { machine };
  const features: FeaturesDef = { acpi: true, apic: true };
  if (firmware === "uefi") {
    if (!uefi) {
      throw new HypervisorError("unsupported", "spec.firmware: uefi requested but no UEFI firmware is configured on this node", "spec.firmware");
    }
    os.loader = { path: uefi.loaderPath, readonly: "yes", type: "pflash", secure: uefi.secure ? "yes" : "no" };
    os.nvram = { path: uefi.nvramPath, template: uefi.nvramTemplate };
    // Secure boot firmware only runs with System Management Mode.
    if (uefi.secure) features.smm = true;
  }
  return { os, features };
}
