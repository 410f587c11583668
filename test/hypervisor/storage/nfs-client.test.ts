import { describe, expect, test } from "bun:test";
import { filesystemNames, nfsClientProblem } from "../../../src/hypervisor/storage/nfs-client.ts";
import { nfsPort } from "../../../src/hypervisor/storage/pool-definition.ts";

// /proc/filesystems of a kernel without NFS (this CI machine's) and with the module loaded.
const WITHOUT = "nodev\tsysfs\nnodev\tproc\n\text4\nnodev\tfuse\nnodev\toverlay\n";
const WITH = `${WITHOUT}nodev\tnfs\nnodev\tnfs4\n`;
const facts = { filesystems: WITHOUT, loadableModule: false, builtin: false, mountHelper: true };

describe("can this host mount NFS", () => {
  test("/proc/filesystems names, with and without nodev", () => {
    expect([...filesystemNames(WITH)]).toEqual(["sysfs", "proc", "ext4", "fuse", "overlay", "nfs", "nfs4"]);
  });

  test("a kernel with nfs listed, a loadable module or a built-in one can", () => {
    expect(nfsClientProblem({ ...facts, filesystems: WITH })).toBeUndefined();
    expect(nfsClientProblem({ ...facts, loadableModule: true })).toBeUndefined();
    expect(nfsClientProblem({ ...facts, builtin: true })).toBeUndefined();
  });

  test("no kernel client: says so and how to get one", () => {
    expect(nfsClientProblem(facts)).toContain("has no NFS client");
    expect(nfsClientProblem({ ...facts, filesystems: undefined })).toContain("CONFIG_NFS_FS");
  });

  test("a kernel client without mount.nfs: names the package", () => {
    expect(nfsClientProblem({ ...facts, filesystems: WITH, mountHelper: false })).toContain("nfs-common");
  });
});

describe("the NFS server's port", () => {
  test("port= in the mount options, else 2049; port=0 (ask rpcbind) and junk fall back to 2049", () => {
    expect(nfsPort(["soft", "port=20490"])).toBe(20490);
    expect(nfsPort(["port=1", "port=2050"])).toBe(2050);
    expect(nfsPort([])).toBe(2049);
    expect(nfsPort(["port=0"])).toBe(2049);
    expect(nfsPort(["port=99999"])).toBe(2049);
    expect(nfsPort(["port=abc"])).toBe(2049);
  });
});
