// arm64 /proc/cpuinfo has no "model name": the CPU is named by implementer and part number.
// A short table of server cores (the same names lscpu prints); others are shown by number.

const IMPLEMENTERS: Record<string, string> = {
  "0x41": "ARM",
  "0x46": "Fujitsu",
  "0x48": "HiSilicon",
  "0x4e": "NVIDIA",
  "0x50": "APM",
  "0x51": "Qualcomm",
  "0x61": "Apple",
  "0xc0": "Ampere",
};

const PARTS: Record<string, string> = {
  "0x41/0xd03": "Cortex-A53",
  "0x41/0xd07": "Cortex-A57",
  "0x41/0xd08": "Cortex-A72",
  "0x41/0xd0b": "Cortex-A76",
  "0x41/0xd0c": "Neoverse-N1",
  "0x41/0xd40": "Neoverse-V1",
  "0x41/0xd49": "Neoverse-N2",
  "0x41/0xd4f": "Neoverse-V2",
  "0x48/0xd01": "TaiShan-v110",
  "0xc0/0xac3": "Ampere-1",
  "0xc0/0xac4": "Ampere-1a",
};

export function armModelName(implementer: string, part: string | undefined): string {
  const imp = implementer.toLowerCase();
  const vendor = IMPLEMENTERS[imp] ?? `implementer ${implementer}`;
  if (part === undefined) return vendor;
  const name = PARTS[`${imp}/${part.toLowerCase()}`];
  return name ?? `${vendor} part ${part}`;
}
