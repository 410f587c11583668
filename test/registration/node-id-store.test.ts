import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
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

  test("saves into a new 0700 directory, loads back, leaves no temporary file", async () => {
    const stateDir = join(dir, "var", "lib", "limiquantix");
    await saveNodeId(stateDir, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    expect(await loadNodeId(stateDir)).toBe("7c9e6679-7425-40de-944b-e07fc1f90ae7");
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect(await readdir(stateDir)).toEqual(["node-id"]);
    await saveNodeId(stateDir, "second");
    expect(await readFile(join(stateDir, "node-id"), "utf8")).toBe("second\n");
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
