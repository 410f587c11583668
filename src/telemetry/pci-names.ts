// Names for PCI class codes (the PCI SIG's base class and subclass) and for the vendors a
// hypervisor host typically passes through. The full pci.ids database is not needed for that.

const SUBCLASSES: Record<string, string> = {
  "0100": "SCSI storage controller",
  "0101": "IDE interface",
  "0104": "RAID bus controller",
  "0106": "SATA controller",
  "0107": "Serial Attached SCSI controller",
  "0108": "Non-Volatile memory controller",
  "0180": "Mass storage controller",
  "0200": "Ethernet controller",
  "0207": "Infiniband controller",
  "0280": "Network controller",
  "0300": "VGA compatible controller",
  "0301": "XGA compatible controller",
  "0302": "3D controller",
  "0380": "Display controller",
  "0400": "Multimedia video controller",
  "0401": "Multimedia audio controller",
  "0403": "Audio device",
  "0480": "Multimedia controller",
  "0600": "Host bridge",
  "0601": "ISA bridge",
  "0604": "PCI bridge",
  "0700": "Serial controller",
  "0880": "System peripheral",
  "0c03": "USB controller",
  "0c05": "SMBus",
  "1200": "Processing accelerators",
};

const BASE_CLASSES: Record<string, string> = {
  "00": "Unclassified device",
  "01": "Mass storage controller",
  "02": "Network controller",
  "03": "Display controller",
  "04": "Multimedia controller",
  "05": "Memory controller",
  "06": "Bridge",
  "07": "Communication controller",
  "08": "Generic system peripheral",
  "09": "Input device controller",
  "0c": "Serial bus controller",
  "0d": "Wireless controller",
  "10": "Encryption controller",
  "11": "Signal processing controller",
  "12": "Processing accelerators",
  ff: "Unassigned class",
};

/** "0x030000" → "VGA compatible controller". */
export function pciClassName(classCode: string): string {
  const hex = classCode.toLowerCase().replace(/^0x/, "").padStart(6, "0");
  return SUBCLASSES[hex.slice(0, 4)] ?? BASE_CLASSES[hex.slice(0, 2)] ?? `Class ${hex.slice(0, 4)}`;
}

const VENDORS: Record<string, string> = {
  "0x1000": "Broadcom / LSI",
  "0x1002": "Advanced Micro Devices, Inc. [AMD/ATI]",
  "0x1022": "Advanced Micro Devices, Inc. [AMD]",
  "0x102b": "Matrox Electronics Systems Ltd.",
  "0x10de": "NVIDIA Corporation",
  "0x1077": "QLogic Corp.",
  "0x144d": "Samsung Electronics Co Ltd",
  "0x14e4": "Broadcom Inc. and subsidiaries",
  "0x15b3": "Mellanox Technologies",
  "0x1a03": "ASPEED Technology, Inc.",
  "0x1af4": "Red Hat, Inc.",
  "0x1b36": "Red Hat, Inc.",
  "0x1d0f": "Amazon.com, Inc.",
  "0x8086": "Intel Corporation",
};

export function pciVendorName(vendorId: string): string | undefined {
  return VENDORS[vendorId.toLowerCase()];
}
