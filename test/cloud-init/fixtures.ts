// Inputs shared by the golden, structure and tool tests.

export const BASIC_DATE = new Date("2024-05-06T07:08:09.120Z");

// Longer than one sector, so the file spans two.
const NETWORK_CONFIG =
  "version: 2\nethernets:\n" +
  Array.from({ length: 40 }, (_, i) => `  eth${i}:\n    match: {macaddress: "52:54:00:00:00:${String(i).padStart(2, "0")}"}\n    dhcp4: true\n`).join("");

export const BASIC_FILES = [
  { name: "user-data", content: "#cloud-config\nhostname: web-01\nusers:\n  - name: ops\n    sudo: ALL=(ALL) NOPASSWD:ALL\n" },
  { name: "meta-data", content: "instance-id: 6c2b1a8e-4f0d-4c1e-9a57-0d6c2f1b3e9a\nlocal-hostname: web-01\n" },
  { name: "network-config", content: NETWORK_CONFIG },
  { name: "vendor-data", content: "" },
];
