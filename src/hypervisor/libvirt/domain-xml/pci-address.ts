// PCI addresses as the spec writes them ("0000:01:00.0") and as libvirt's <address> has them
// (domain='0x0000' bus='0x01' slot='0x00' function='0x0').

import { HypervisorError } from "../../errors.ts";

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

// Domain optional (defaults to 0000), as lspci prints it; slot is 5 bits, function 3.
const PATTERN = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

export function parsePciAddress(text: string, field: string): PciAddress {
  const m = PATTERN.exec(text);
  const slot = Number.parseInt(m?.[3] ?? "", 16);
  if (!m || slot > 0x1f) {
    throw new HypervisorError("invalid_argument", `${field}: expected a PCI address like 0000:01:00.0, got ${JSON.stringify(text)}`, field);
  }
  return {
    domain: Number.parseInt(m[1] ?? "0", 16),
    bus: Number.parseInt(m[2] ?? "", 16),
    slot,
    function: Number.parseInt(m[4] ?? "", 16),
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

export function formatPciAddress(a: PciAddress): string {
  return `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${hex(a.function, 1)}`;
}

/** The attributes of libvirt's <address type='pci'>, in its own notation. */
export function pciAddressAttrs(a: PciAddress): Record<string, string> {
  return {
    domain: `0x${hex(a.domain, 4)}`,
    bus: `0x${hex(a.bus, 2)}`,
    slot: `0x${hex(a.slot, 2)}`,
    function: `0x${hex(a.function, 1)}`,
  };
}
