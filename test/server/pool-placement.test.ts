// Where a storage pool may live: never a system folder, inside one, or around one, nor around
// the node's state folder (a pool folder becomes a storage root whose files guests can get).

import { describe, expect, test } from "bun:test";
import { ConnectError } from "@connectrpc/connect";
import { checkPoolPlacement } from "../../src/server/storage/pool-placement.ts";

const STATE = "/var/lib/limiquantix";
const refusal = (path: string) => {
  try {
    checkPoolPlacement(path, "config.local.path", STATE);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectError);
    return (err as ConnectError).rawMessage;
  }
};

describe("checkPoolPlacement", () => {
  test.each(["/var/lib/limiquantix/pools/local-ssd", "/data", "/data/pools/a", "/mnt/nvme0", "/srv/vms", "/var/lib/libvirt/images", "/home/vms"])(
    "%s is a fine pool folder",
    (path) => {
      expect(refusal(path)).toBeUndefined();
    },
  );
  test.each([
    ["/etc", "inside the system folder /etc"],
    ["/etc/ssh", "inside the system folder /etc"],
    ["/root/pool", "inside the system folder /root"],
    ["/usr/local/pool", "inside the system folder /usr"],
    ["/proc/1", "inside the system folder /proc"],
    ["/var/lib/libvirt/qemu/x", "inside the system folder /var/lib/libvirt/qemu"],
    ["/var", "contains /var/lib/libvirt/qemu"],
    ["/var/lib", "contains /var/lib/libvirt/qemu"],
    ["/var/lib/limiquantix", "contains /var/lib/limiquantix"],
    ["/var/lib/limiquantix/", "contains /var/lib/limiquantix"],
  ])("%s is refused: %s", (path, why) => {
    expect(refusal(path)).toContain(why);
    expect(refusal(path)).toStartWith("config.local.path: ");
  });
});
