// ListStoragePoolFiles' rules (contract 7.7): the path a client names stays inside the pool,
// entries are sorted directories first then by name ignoring case, times are RFC 3339 UTC
// without fractions, permissions octal; checked as table tests of the pure parts and once on a
// real temporary tree (symlinks, modes and times set by the test).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileTypeOf, listPoolFiles, type PoolFileEntry, relativePoolPath, sortEntries } from "../../src/server/storage/pool-files.ts";

const refusal = (fn: () => unknown): string => {
  try {
    fn();
    return "accepted";
  } catch (err) {
    return `${Code[ConnectError.from(err).code]} ${ConnectError.from(err).rawMessage}`;
  }
};

describe("relativePoolPath", () => {
  test.each([
    ["", "."],
    [".", "."],
    ["iso", "iso"],
    ["iso/", "iso"],
    ["iso//debian", "iso/debian"],
    ["./iso/./x", "iso/x"],
    ["a..b", "a..b"],
    ["..hidden", "..hidden"],
  ])("%j -> %j", (path, rel) => {
    expect(relativePoolPath(path)).toBe(rel);
  });

  test.each([
    ["..", /^InvalidArgument path: must not contain '\.\.' segments/],
    ["iso/../..", /^InvalidArgument path: must not contain '\.\.' segments/],
    ["iso/..", /^InvalidArgument path: must not contain '\.\.' segments/],
    ["/etc", /^InvalidArgument path: must be relative to the pool root \(e\.g\. "iso"\), got "\/etc"/],
    ["/", /^InvalidArgument path: must be relative/],
    ["iso\u0000", /^InvalidArgument path: must not contain NUL/],
  ])("refuses %j", (path, rule) => {
    expect(refusal(() => relativePoolPath(path))).toMatch(rule);
  });
});

describe("fileTypeOf", () => {
  test.each([
    ["debian.iso", false, "iso"],
    ["Windows.ISO", false, "iso"],
    ["disk.qcow2", false, "qcow2"],
    ["archive.tar.gz", false, "gz"],
    ["README", false, "readme"],
    [".bashrc", false, "bashrc"],
    ["trailing.", false, ""],
    ["iso", true, "directory"],
    ["images.d", true, "directory"],
  ] as const)("%j (directory %s) -> %j", (name, isDirectory, type) => {
    expect(fileTypeOf(name, isDirectory)).toBe(type);
  });
});

describe("sortEntries", () => {
  const entry = (name: string, isDirectory = false): PoolFileEntry => ({
    name,
    path: name,
    isDirectory,
    sizeBytes: 0,
    modifiedAt: "",
    fileType: fileTypeOf(name, isDirectory),
    permissions: "644",
  });

  test.each([
    ["directories first", [entry("a.iso"), entry("zz", true), entry("B.iso"), entry("iso", true)], ["iso", "zz", "a.iso", "B.iso"]],
    ["case-insensitive by name", [entry("b"), entry("C"), entry("a"), entry("D")], ["a", "b", "C", "D"]],
    ["ties broken by the exact name (a total order)", [entry("iso"), entry("ISO"), entry("Iso")], ["ISO", "Iso", "iso"]],
    ["directories sorted among themselves too", [entry("Win", true), entry("linux", true)], ["linux", "Win"]],
    ["empty", [], []],
  ] as const)("%s", (_name, entries, names) => {
    expect(sortEntries([...entries]).map((e) => e.name)).toEqual([...names]);
  });
});

describe("listPoolFiles on a real tree", () => {
  let dir: string;
  let pool: string;
  const mtime = new Date("2026-01-31T10:20:30.456Z");

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lq-pool-files-"));
    pool = join(dir, "pool");
    const outside = join(dir, "outside");
    for (const d of [join(pool, "iso", "old"), join(pool, "Images"), outside]) mkdirSync(d, { recursive: true });
    writeFileSync(join(pool, "iso", "debian-12.iso"), "x".repeat(1234));
    writeFileSync(join(pool, "iso", "Alpine.ISO"), "y");
    writeFileSync(join(pool, "iso", ".hidden"), "");
    writeFileSync(join(pool, "iso", "script.sh"), "#!/bin/sh\n");
    chmodSync(join(pool, "iso", "script.sh"), 0o750);
    chmodSync(join(pool, "iso", "debian-12.iso"), 0o644);
    chmodSync(join(pool, "iso", "old"), 0o755);
    writeFileSync(join(outside, "secret.iso"), "s");
    // Links: one to a file inside the pool, one to a file outside, one to a directory outside, one dangling.
    symlinkSync(join(pool, "iso", "debian-12.iso"), join(pool, "iso", "latest.iso"));
    symlinkSync(join(outside, "secret.iso"), join(pool, "iso", "escape.iso"));
    symlinkSync(outside, join(pool, "iso", "tunnel"));
    symlinkSync(join(pool, "iso", "gone.iso"), join(pool, "iso", "dangling.iso"));
    symlinkSync(outside, join(pool, "out"));
    for (const f of ["debian-12.iso", "Alpine.ISO", ".hidden", "script.sh", "old"]) utimesSync(join(pool, "iso", f), mtime, mtime);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("one directory: paths from the pool root, octal modes, RFC 3339 times without fractions; links leaving the pool skipped", async () => {
    const entries = await listPoolFiles(pool, "p1", "iso");
    expect(entries.map((e) => e.name)).toEqual(["old", ".hidden", "Alpine.ISO", "debian-12.iso", "latest.iso", "script.sh"]);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("old")).toEqual({
      name: "old",
      path: "iso/old",
      isDirectory: true,
      sizeBytes: 0,
      modifiedAt: "2026-01-31T10:20:30Z",
      fileType: "directory",
      permissions: "755",
    });
    expect(byName.get("debian-12.iso")).toEqual({
      name: "debian-12.iso",
      path: "iso/debian-12.iso",
      isDirectory: false,
      sizeBytes: 1234,
      modifiedAt: "2026-01-31T10:20:30Z",
      fileType: "iso",
      permissions: "644",
    });
    expect(byName.get("script.sh")).toMatchObject({ fileType: "sh", permissions: "750" });
    // A link inside the pool is listed as what it points to.
    expect(byName.get("latest.iso")).toMatchObject({ path: "iso/latest.iso", isDirectory: false, sizeBytes: 1234, fileType: "iso" });
    for (const e of entries) expect(e.modifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("the pool root: an empty path and '.' both list it", async () => {
    for (const path of ["", "."]) {
      expect((await listPoolFiles(pool, "p1", path)).map((e) => [e.name, e.path])).toEqual([
        ["Images", "Images"],
        ["iso", "iso"],
      ]);
    }
  });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => "OK",
      (e) => `${Code[ConnectError.from(e).code]} ${ConnectError.from(e).rawMessage}`,
    );

  test.each([
    ["a missing path is NOT_FOUND", "iso/none", /^NotFound Path "iso\/none" in pool p1 not found$/],
    ["a directory link leaving the pool is refused", "out", /^InvalidArgument path: resolves outside the pool through a symlink/],
    ["a path through a link leaving the pool is refused", "iso/tunnel", /^InvalidArgument path: resolves outside the pool through a symlink/],
    ["a file is not a directory", "iso/debian-12.iso", /^InvalidArgument path: "iso\/debian-12.iso" is a file, not a directory/],
    ["'..' is refused before the file system is asked", "iso/../..", /^InvalidArgument path: must not contain '\.\.'/],
  ])("%s", async (_name, path, rule) => {
    const answer = await failure(listPoolFiles(pool, "p1", path));
    expect(answer).toMatch(rule);
    expect(answer).not.toContain(join(dir, "outside"));
  });

  test("a pool directory that does not exist is FAILED_PRECONDITION", async () => {
    expect(await failure(listPoolFiles(join(dir, "no-such-pool"), "p9", ""))).toMatch(/^FailedPrecondition pool p9 has no mount path on this node/);
  });
});
