import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HypervisorError } from "../../../src/hypervisor/errors.ts";
import type { QemuUser } from "../../../src/hypervisor/libvirt/qemu-user.ts";
import {
  blockedFolder,
  checkStorageAccess,
  type FolderMode,
  foldersToCross,
  type PermissionClass,
  storageAccessError,
} from "../../../src/hypervisor/libvirt/storage-access.ts";

const TREE = join(import.meta.dir, "../../fixtures/qemu-user/debian12-kvm");
const CAPS = readFileSync(join(TREE, "capabilities.xml"), "utf8");
const QEMU: QemuUser = { name: "libvirt-qemu", uid: 999, gid: 993, groups: [993, 995], source: "libvirt's DAC label +999:+993" };
const ROOT = process.getuid?.() === 0;

describe("foldersToCross", () => {
  test("every folder from the root down, normalised", () => {
    expect(foldersToCross("/var/lib/limiquantix/vms")).toEqual(["/", "/var", "/var/lib", "/var/lib/limiquantix", "/var/lib/limiquantix/vms"]);
    expect(foldersToCross("/var//lib/../lib/x/")).toEqual(["/", "/var", "/var/lib", "/var/lib/x"]);
    expect(foldersToCross("/")).toEqual(["/"]);
  });
});

describe("blockedFolder", () => {
  const dir = (path: string, mode: number, uid = 0, gid = 0): FolderMode => ({ path, mode, uid, gid });
  const cases: [string, FolderMode[], { path: string; applies: PermissionClass } | undefined][] = [
    [
      "the default layout, all 0755",
      [dir("/", 0o755), dir("/var", 0o755), dir("/var/lib/limiquantix", 0o755), dir("/var/lib/limiquantix/vms", 0o711)],
      undefined,
    ],
    [
      "a 0700 state folder (the issue)",
      [dir("/", 0o755), dir("/var/lib/limiquantix", 0o700), dir("/var/lib/limiquantix/vms", 0o755)],
      { path: "/var/lib/limiquantix", applies: "o" },
    ],
    ["the first blocking folder from the root down", [dir("/a", 0o750), dir("/a/b", 0o700)], { path: "/a", applies: "o" }],
    ["search (x) without read is enough", [dir("/a", 0o711), dir("/a/b", 0o001)], undefined],
    ["0750 with QEMU's primary group", [dir("/a", 0o750, 0, 993)], undefined],
    ["0750 with a supplementary group (kvm)", [dir("/a", 0o750, 0, 995)], undefined],
    ["group match uses only the group bits, even when other may pass", [dir("/a", 0o705, 0, 993)], { path: "/a", applies: "g" }],
    ["owned by QEMU's user: only the owner bits count", [dir("/a", 0o077, 999, 993)], { path: "/a", applies: "u" }],
    ["owned by QEMU's user, 0700", [dir("/a", 0o700, 999, 0)], undefined],
    ["setgid and sticky bits do not matter", [dir("/tmp", 0o1777), dir("/tmp/x", 0o2755)], undefined],
  ];
  for (const [name, folders, want] of cases) {
    test(name, () => {
      const got = blockedFolder(folders, QEMU);
      expect(got === undefined ? undefined : { path: got.folder.path, applies: got.applies }).toEqual(want);
    });
  }
});

describe("storageAccessError", () => {
  test("names the folder, its mode and owner, the QEMU user and the fix", () => {
    const err = storageAccessError("/var/lib/limiquantix/vms", { folder: { path: "/var/lib/limiquantix", mode: 0o700, uid: 0, gid: 0 }, applies: "o" }, QEMU);
    expect(err).toBeInstanceOf(HypervisorError);
    expect(err.kind).toBe("invalid_argument");
    expect(err.field).toBe("hypervisor.storage_path");
    expect(err.message).toBe(
      "QEMU cannot reach the storage path /var/lib/limiquantix/vms: libvirt runs it as libvirt-qemu (uid 999, gid 993, groups 993,995; " +
        "from libvirt's DAC label +999:+993), and /var/lib/limiquantix (mode 0700, owner uid 0, group gid 0) does not let that user through, " +
        'so every VM disk under it would fail to open ("Permission denied") when the VM starts. ' +
        "Fix: chmod o+x /var/lib/limiquantix (or chmod 755 /var/lib/limiquantix), or set hypervisor.storage_path to a folder QEMU can reach.",
    );
  });
  test("a user without a name, the group class", () => {
    const err = storageAccessError(
      "/s",
      { folder: { path: "/s", mode: 0o2705, uid: 0, gid: 107 }, applies: "g" },
      { uid: 107, gid: 107, groups: [107], source: "qemu.conf" },
    );
    expect(err.message).toContain("libvirt runs it as uid 107 (gid 107, groups 107; from qemu.conf)");
    expect(err.message).toContain("(mode 2705, owner uid 0, group gid 107)");
    expect(err.message).toContain("Fix: chmod g+x /s (or chmod 755 /s)");
  });
});

describe("checkStorageAccess on real folders", () => {
  let root: string;
  let logged: string[];
  const log = {
    debug: (...a: unknown[]) => logged.push(`debug ${a.join(" ")}`),
    info: (...a: unknown[]) => logged.push(`info ${a.join(" ")}`),
    warn: (...a: unknown[]) => logged.push(`warn ${a.join(" ")}`),
    error: (...a: unknown[]) => logged.push(`error ${a.join(" ")}`),
  };
  const check = (storagePath: string, uri = "qemu:///system") =>
    checkStorageAccess({ uri, storagePath, capabilitiesXml: CAPS, etcRoot: join(TREE, "etc"), log });

  beforeEach(() => {
    logged = [];
    root = mkdtempSync(join(tmpdir(), "lqx-storage-access-"));
    // mkdtemp makes it 0700: the temporary root stands in for a 0755 "/".
    chmodSync(root, 0o755);
    mkdirSync(join(root, "state", "vms"), { recursive: true, mode: 0o755 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("the default layout with 0755 folders passes and says so at debug level", async () => {
    chmodSync(join(root, "state"), 0o755);
    await check(join(root, "state", "vms"));
    expect(logged).toEqual([
      `debug storage path ${root}/state/vms is reachable for QEMU, which runs as libvirt-qemu (uid 999, gid 993, groups 993,995; from libvirt's DAC label +999:+993)`,
    ]);
  });

  test("a 0700 state folder above the images is a start-up error naming it", async () => {
    chmodSync(join(root, "state"), 0o700);
    const err = await check(join(root, "state", "vms")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as Error).message).toContain(`and ${root}/state (mode 0700, owner uid ${process.getuid?.()}`);
    expect((err as Error).message).toContain(`Fix: chmod o+x ${root}/state (or chmod 755 ${root}/state)`);
  });

  test("a symlink to images below a private folder: the real folder is named", async () => {
    mkdirSync(join(root, "private", "images"), { recursive: true });
    chmodSync(join(root, "private"), 0o700);
    chmodSync(join(root, "private", "images"), 0o755);
    symlinkSync(join(root, "private", "images"), join(root, "state", "link"));
    await expect(check(join(root, "state", "link"))).rejects.toThrow(`and ${root}/private (mode 0700`);
  });

  test.skipIf(!ROOT)("a 0750 folder of a group QEMU's user is in (kvm, from /etc/group) passes; 0705 of its own group does not", async () => {
    chownSync(join(root, "state"), 0, 995);
    chmodSync(join(root, "state"), 0o750);
    await check(join(root, "state", "vms"));
    chownSync(join(root, "state"), 0, 993);
    chmodSync(join(root, "state"), 0o705);
    await expect(check(join(root, "state", "vms"))).rejects.toThrow(`Fix: chmod g+x ${root}/state`);
  });

  for (const uri of ["test:///default", "qemu:///session", "qemu+ssh://host/system", "qemu+tcp://10.0.0.2/system"]) {
    test(`${uri}: not checked, said at debug level`, async () => {
      chmodSync(join(root, "state"), 0o700);
      await check(join(root, "state", "vms"), uri);
      expect(logged).toEqual([`debug storage path ${root}/state/vms not checked for QEMU access: ${uri} is not the local qemu:///system driver`]);
    });
  }

  test("qemu+unix:///system with a socket is the local driver: checked", async () => {
    chmodSync(join(root, "state"), 0o700);
    await expect(check(join(root, "state", "vms"), "qemu+unix:///system?socket=/run/x/libvirt-sock")).rejects.toThrow("chmod o+x");
  });

  test("a storage path that cannot be read is a warning, not a start-up error", async () => {
    await check(join(root, "missing"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toStartWith(`warn cannot check that QEMU can reach the storage path ${root}/missing: `);
  });
});
