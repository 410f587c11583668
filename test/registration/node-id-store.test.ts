import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodeId, saveNodeId } from "../../src/registration/node-id-store.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lqx-nodeid-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("node id store", () => {
  test("nothing stored yet is undefined, not an error", async () => {
    expect(await loadNodeId(join(dir, "missing"))).toBeUndefined();
  });

  const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

  test("saves into a new directory, loads back, leaves no temporary file", async () => {
    const stateDir = join(dir, "var", "lib", "limiquantix");
    await saveNodeId(stateDir, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    expect(await loadNodeId(stateDir)).toBe("7c9e6679-7425-40de-944b-e07fc1f90ae7");
    expect(await readdir(stateDir)).toEqual(["node-id"]);
    await saveNodeId(stateDir, "second");
    expect(await readFile(join(stateDir, "node-id"), "utf8")).toBe("second\n");
  });

  // The state folder is also where the VM images go by default (<state_dir>/vms): QEMU, running
  // as its own user, must be able to pass through it. The id itself stays private.
  test("the folders it creates are 0755 even under systemd's UMask=0027, the id file 0600", async () => {
    const stateDir = join(dir, "var", "lib", "limiquantix");
    const old = process.umask(0o027);
    try {
      await saveNodeId(stateDir, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    } finally {
      process.umask(old);
    }
    for (const folder of [join(dir, "var"), join(dir, "var", "lib"), stateDir]) expect([folder, await modeOf(folder)]).toEqual([folder, 0o755]);
    expect(await modeOf(join(stateDir, "node-id"))).toBe(0o600);
  });

  test("a folder that exists keeps its mode (the start-up check names one QEMU cannot pass)", async () => {
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { mode: 0o750 });
    await chmod(stateDir, 0o750);
    await chmod(dir, 0o711);
    await saveNodeId(stateDir, "id");
    expect(await modeOf(stateDir)).toBe(0o750);
    expect(await modeOf(dir)).toBe(0o711);
    expect(await modeOf(join(stateDir, "node-id"))).toBe(0o600);
  });

  test("a leftover temporary file of a crashed run with the same pid does not widen the id file", async () => {
    await writeFile(join(dir, `node-id.${process.pid}.tmp`), "half", { mode: 0o644 });
    await chmod(join(dir, `node-id.${process.pid}.tmp`), 0o644);
    await saveNodeId(dir, "id");
    expect(await modeOf(join(dir, "node-id"))).toBe(0o600);
    expect(await readdir(dir)).toEqual(["node-id"]);
  });

  test("an empty or whitespace file counts as no id", async () => {
    await writeFile(join(dir, "node-id"), "  \n");
    expect(await loadNodeId(dir)).toBeUndefined();
  });

  test("a write that fails leaves the old id and no temporary file", async () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; a file in place of the directory fails for everyone.
      await writeFile(join(dir, "blocked"), "");
      await expect(saveNodeId(join(dir, "blocked"), "x")).rejects.toThrow();
      return;
    }
    const stateDir = join(dir, "ro");
    await saveNodeId(stateDir, "old");
    await chmod(stateDir, 0o500);
    await expect(saveNodeId(stateDir, "new")).rejects.toThrow();
    await chmod(stateDir, 0o700);
    expect(await loadNodeId(stateDir)).toBe("old");
    expect(await readdir(stateDir)).toEqual(["node-id"]);
  });
});
