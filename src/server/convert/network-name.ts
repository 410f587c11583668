// Which libvirt network a NIC joins. The control plane sends its own network ids (UUIDs, or
// "net-..." names) where a libvirt network name would go (contract 1.3, 7.1); a host has no
// libvirt network of that name, so those join the node's default network. Any other name is a
// libvirt network the operator defined, taken as it is.

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isControlPlaneNetworkId(network: string): boolean {
  return network.startsWith("net-") || UUID_RE.test(network);
}

/** The libvirt network for a NIC's `network` field ("" too: a NIC with neither bridge nor network). */
export function libvirtNetworkFor(network: string, defaultNetwork: string): string {
  return network === "" || isControlPlaneNetworkId(network) ? defaultNetwork : network;
}
