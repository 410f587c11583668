// Disk paths resolve inside the storage roots: checked lexically and on the real file system
// with real symlinks in a temporary tree, and end to end through CreateVM and AttachDisk.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskFormat } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createStorageRoots } from "../../src/server/storage-roots.ts";
import { newVmId, smallVm, startHarness, type Harness } from "../reliability/harness.ts";

let dir: string;
let vms: string;
let iso: string;
let outside: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lq-roots-"));
  vms = join(dir, "vms");
  iso = join(dir, "iso-real");
  outside = join(dir, "outside");
  for (const d of [vms, iso, outside, join(vms, "cloud")]) mkdirSync(d, { recursive: true });
  writeFileSync(join(vms, "disk.qcow2"), "");
  writeFileSync(join(iso, "debian.iso"), "");
  writeFileSync(join(outside, "secret.img"), "");
  symlinkSync(join(outside, "secret.img"), join(vms, "escape.qcow2")); // file link out
  symlinkSync(outside, join(vms, "tunnel")); // directory link out
  symlinkSync(join(vms, "disk.qcow2"), join(vms, "alias.qcow2")); // link that stays in
  symlinkSync(join(outside, "not-yet.img"), join(vms, "dangling.qcow2"));
  symlinkSync("../outside", join(vms, "relative-tunnel")); // relative link out
  symlinkSync(iso, join(dir, "iso")); // the configured root is itself a symlink
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createStorageRoots", () => {
  const roots = () => createStorageRoots([vms, join(vms, "cloud"), join(dir, "iso")]);
  const verdict = (p: string) =>
    roots()
      .check(p, "disk.path")
      .then(
        () => "ok",
        (e: ConnectError) => e.rawMessage,
      );

  test.each([
    ["an existing file in a root", () => join(vms, "disk.qcow2")],
    ["a file yet to be created in a root", () => join(vms, "new", "deep", "x.qcow2")],
    ["a symlink that stays inside", () => join(vms, "alias.qcow2")],
    ["a file under a root that is itself a symlink", () => join(dir, "iso", "debian.iso")],
    ["a root itself with a trailing slash", () => `${vms}/`],
    ["double slashes and dots", () => `${vms}//./disk.qcow2`],
  ])("accepts %s", async (_n, path) => {
    expect(await verdict(path())).toBe("ok");
  });

  test.each([
    ["a path outside every root", () => "/etc/shadow", /inside the storage roots/],
    ["a sibling that only shares a prefix", () => `${vms}-other/x.img`, /inside the storage roots/],
    ["'..' segments", () => `${vms}/../outside/secret.img`, /'\.\.'/],
    ["a relative path", () => "vms/disk.qcow2", /absolute/],
    ["a file symlink pointing out", () => join(vms, "escape.qcow2"), /through a symlink/],
    ["a path through a directory symlink pointing out", () => join(vms, "tunnel", "secret.img"), /through a symlink/],
    ["a new file under a directory symlink pointing out", () => join(vms, "tunnel", "new.img"), /through a symlink/],
    ["a relative directory symlink pointing out", () => join(vms, "relative-tunnel", "secret.img"), /through a symlink/],
    ["a dangling symlink", () => join(vms, "dangling.qcow2"), /symlink whose target does not exist/],
    ["the real folder behind a root symlink, named directly", () => join(iso, "debian.iso"), /inside the storage roots/],
  ])("refuses %s", async (_n, path, rule) => {
    const message = await verdict(path());
    expect(message).toMatch(/^disk\.path: /);
    expect(message).toMatch(rule);
    // Where a link points is a host path outside the roots: never named.
    expect(message).not.toContain(outside);
  });
});

describe("disk paths through the API", () => {
  let h: Harness;
  let root: string;
  beforeAll(async () => {
    h = await startHarness();
    root = h.config.hypervisor.storagePath;
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "base.qcow2"), "");
    symlinkSync("/etc/passwd", join(root, "passwd.img"));
    symlinkSync("/etc", join(root, "etc"));
  });
  afterAll(() => h.stop());

  const codeAndMessage = (p: Promise<unknown>) =>
    p.then(
      () => "OK",
      (e) => `${Code[ConnectError.from(e).code]} ${ConnectError.from(e).rawMessage}`,
    );
  const pathDisk = (path: string) => ({ id: "data", path });

  test("CreateVM accepts disks and backing files inside the roots", async () => {
    const res = await h.grpc.createVM({
      vmId: newVmId(),
      ...smallVm("inside", {
        disks: [
          { id: "root", sizeGib: 1n, format: DiskFormat.QCOW2, backingFile: join(root, "base.qcow2") },
          { id: "data", path: join(root, "data.raw") },
        ],
      }),
    });
    expect(res.created).toBe(true);
  });

  test("CreateVM and AttachDisk refuse symlink escapes, naming the field, never the target", async () => {
    const escape = await codeAndMessage(h.grpc.createVM({ vmId: newVmId(), ...smallVm("esc", { disks: [pathDisk(join(root, "passwd.img"))] }) }));
    expect(escape).toMatch(/^InvalidArgument spec\.disks\[0\]\.path: resolves outside the storage roots through a symlink/);
    expect(escape).not.toContain("/etc/passwd");
    const backing = await codeAndMessage(
      h.grpc.createVM({
        vmId: newVmId(),
        ...smallVm("esc2", { disks: [{ id: "r", sizeGib: 1n, backingFile: join(root, "etc", "shadow") }] }),
      }),
    );
    expect(backing).toMatch(/^InvalidArgument spec\.disks\[0\]\.backing_file: resolves outside/);
    const id = newVmId();
    await h.grpc.createVM({ vmId: id, ...smallVm("hot") });
    const attach = await codeAndMessage(h.grpc.attachDisk({ vmId: id, disk: pathDisk(join(root, "etc", "shadow")) }));
    expect(attach).toMatch(/^InvalidArgument disk\.path: resolves outside/);
    const disks = async () => (await h.grpc.getVMStatus({ vmId: id })).spec!.disks;
    expect(await disks()).toEqual([]);
    expect(await codeAndMessage(h.grpc.attachDisk({ vmId: id, disk: pathDisk(join(root, "ok.raw")) }))).toBe("OK");
    expect((await disks()).map((d) => d.id)).toEqual(["data"]);
  });
});
