// pool and volume as processes against a real daemon (mock backend): a directory pool made in a
// scratch folder, its files, and growing a VM's disk in pool default by the disk's id.

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useDaemonForCli } from "./helpers.ts";

const cliCtx = useDaemonForCli("lq-cli-storage-");
const { dir, run } = cliCtx;
const GIB = 1024 ** 3;

describe("pool", () => {
  test("init makes a directory pool; list and info show it; init again alike succeeds", async () => {
    const path = join(dir, "isos");
    const init = await run("pool", "init", "--id", "isos", "--path", path);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(new RegExp(`^pool isos ready at ${path} \\(.* available\\)\\n$`));
    expect((await run("pool", "init", "--id", "isos", "--path", path)).code).toBe(0);

    const list = await run("pool", "list");
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+ACTIVE\s+VOLUMES\s+USED\s+AVAILABLE\s+PATH$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^isos\\s+local_dir\\s+yes\\s+0\\s+.+\\s${path}$`)));
    // The node's own storage is always there (active once its folder exists).
    expect(lines).toContainEqual(expect.stringMatching(/^default\s+local_dir\s+(yes|no)\s/));
    const json = JSON.parse((await run("pool", "list", "--json")).stdout);
    expect(json.pools.map((p: { poolId: string }) => p.poolId)).toEqual(expect.arrayContaining(["default", "isos"]));

    const info = await run("pool", "info", "isos");
    expect(info.stdout).toMatch(/^id:\s+isos$/m);
    expect(info.stdout).toMatch(/^type:\s+local_dir$/m);
    expect(info.stdout).toMatch(new RegExp(`^path:\\s+${path}$`, "m"));
    expect(JSON.parse((await run("pool", "info", "isos", "--json")).stdout)).toMatchObject({ poolId: "isos", mountPath: path, active: true });
  });

  test("files lists a folder, directories first, with the paths vm media --iso takes", async () => {
    const path = join(dir, "media");
    expect((await run("pool", "init", "--id", "media", "--path", path)).code).toBe(0);
    expect((await run("pool", "files", "media")).stdout).toBe("pool media is empty\n");
    mkdirSync(join(path, "linux"));
    writeFileSync(join(path, "linux", "debian-12.iso"), "x".repeat(2048));
    writeFileSync(join(path, "README.txt"), "hello");

    const root = await run("pool", "files", "media");
    expect(root.code).toBe(0);
    const rows = root.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^PATH\s+SIZE\s+MODIFIED\s+MODE$/);
    expect(rows[1]).toMatch(/^linux\/\s+-\s+\S+Z\s+\d{3}$/);
    expect(rows[2]).toMatch(/^README\.txt\s+5 B\s+\S+Z\s+\d{3}$/);
    const sub = await run("pool", "files", "media", "linux");
    expect(sub.stdout).toMatch(/^linux\/debian-12\.iso\s+2\.0 KiB\s/m);
    const json = JSON.parse((await run("pool", "files", "media", "linux", "--json")).stdout);
    expect(json).toMatchObject({
      currentPath: "linux",
      entries: [{ name: "debian-12.iso", path: "linux/debian-12.iso", isDirectory: false, sizeBytes: "2048" }],
    });
  });

  test("an unknown pool is the daemon's not_found; a missing --id is bad usage", async () => {
    const unknown = await run("pool", "info", "nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: not_found: .*nope/);
    const noId = await run("pool", "init", "--path", join(dir, "x"));
    expect(noId.code).toBe(2);
  });
});

describe("volume resize", () => {
  test("grows a VM disk in pool default named by the disk's id; a smaller size is refused", async () => {
    const vmId = crypto.randomUUID();
    await cliCtx.d.grpc.createVM({ vmId, name: "grow-1", spec: { memoryMib: 256n, disks: [{ id: "growme", sizeGib: 1n }] } });
    const r = await run("volume", "resize", "default", "growme", "--size", "3G");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^volume \\S+ in pool default: 3\\.0 GiB \\(a disk of vm ${vmId}\\)\\n$`));
    const json = JSON.parse((await run("volume", "resize", "default", "growme", "--size", "4G", "--json")).stdout);
    expect(json.volume).toMatchObject({ poolId: "default", sizeBytes: String(4 * GIB), attachedTo: vmId });

    const shrink = await run("volume", "resize", "default", "growme", "--size", "1G");
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toMatch(/^error: \w+: /);
    const badSize = await run("volume", "resize", "default", "growme", "--size", "big");
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toBe('error: --size "big": give a size like 20G or 512M\n');
  });
});

describe("pool create|destroy and volume list|create|clone|delete", () => {
  test("an NFS pool (dev mode: no mount), volumes made, cloned, listed and deleted, then the pool destroyed", async () => {
    const nfs = await run(
      "pool",
      "create",
      "--id",
      "nas",
      "--type",
      "nfs",
      "--server",
      "nas.example",
      "--export",
      "/exports/vms",
      "--nfs-version",
      "4.1",
      "--path",
      join(dir, "nas"),
    );
    expect(nfs.stderr).toBe("");
    expect(nfs.stdout).toMatch(new RegExp(`^pool nas ready at ${join(dir, "nas")} `));
    expect((await run("pool", "list")).stdout).toMatch(/^nas\s+nfs\s+yes\s/m);
    const made = await run("volume", "create", "nas", "web-1", "--size", "2G");
    expect(made.stdout).toBe(`volume web-1.qcow2 created in pool nas: 2.0 GiB qcow2 at ${join(dir, "nas", "web-1.qcow2")}\n`);
    const cow = JSON.parse((await run("volume", "create", "nas", "web-2", "--clone", "web-1", "--json")).stdout);
    expect(cow.volume).toMatchObject({ volumeId: "web-2.qcow2", backingPath: join(dir, "nas", "web-1.qcow2"), sizeBytes: String(2 * GIB) });
    expect((await run("volume", "clone", "nas", "web-1", "--to", "web-3")).code).toBe(0);
    const list = (await run("volume", "list", "nas")).stdout.trimEnd().split("\n");
    expect(list[0]).toMatch(/^VOLUME\s+FORMAT\s+SIZE\s+ALLOCATED\s+VM\s+BACKING\s+PATH$/);
    expect(list.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["web-1.qcow2", "web-2.qcow2", "web-3.qcow2"]);
    const base = await run("volume", "delete", "nas", "web-1");
    expect(base.code).toBe(1);
    expect(base.stderr).toMatch(/base image of web-2\.qcow2/);
    for (const v of ["web-2", "web-3", "web-1"]) expect((await run("volume", "delete", "nas", v)).code).toBe(0);
    expect((await run("volume", "list", "nas")).stdout).toBe("pool nas has no volumes\n");
    expect((await run("pool", "destroy", "nas")).stdout).toBe("pool nas destroyed (its data stays)\n");
    expect((await run("pool", "info", "nas")).code).toBe(1);
  });

  test("bad usage: an unknown type, two sources, no size for an empty volume", async () => {
    expect((await run("pool", "create", "--id", "x", "--type", "zfs")).code).toBe(2);
    expect((await run("volume", "create", "default", "v", "--clone", "a", "--image", "b")).code).toBe(2);
    expect((await run("volume", "create", "default", "v")).code).toBe(2);
  });
});
