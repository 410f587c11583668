// The independent ISO 9660 readers the image is checked with. A missing one skips its checks
// with a message naming the Debian package; on CI (CI set) a missing one is a broken machine
// and fails instead. scripts/install-test-deps.sh installs them all.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PACKAGE: Record<string, string> = {
  isoinfo: "genisoimage",
  xorriso: "xorriso",
  blkid: "util-linux",
  pycdlib: "python3-pycdlib",
  yaml: "python3-yaml",
};

function missing(what: string): undefined {
  const why = `${what} is not installed (Debian package ${PACKAGE[what]})`;
  if (process.env.CI) throw new Error(`cloud-init ISO cross-check: ${why}`);
  console.warn(`cloud-init ISO cross-check: ${why}; its checks are skipped`);
  return undefined;
}

export function tool(name: "isoinfo" | "xorriso" | "blkid"): string | undefined {
  const found = Bun.which(name) ?? ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map((d) => `${d}/${name}`).find((p) => existsSync(p));
  return found ?? missing(name);
}

/**
 * A Python that can import the module. Debian's /usr/bin/python3 first: the packages install
 * there, and a python3 earlier on PATH (pyenv, a venv) would not see them.
 */
export function python(module: "pycdlib" | "yaml"): string | undefined {
  for (const py of ["/usr/bin/python3", Bun.which("python3")]) {
    if (py && existsSync(py) && Bun.spawnSync([py, "-c", `import ${module}`]).exitCode === 0) return py;
  }
  return missing(module);
}

export interface Ran {
  stdout: Buffer;
  stderr: string;
}

/** C.UTF-8: fixed message formats, and file names beyond ASCII pass through unmangled. */
export const TOOL_ENV = { ...process.env, LC_ALL: "C.UTF-8" };

export function run(cmd: string[], stdin?: string): Ran {
  const r = Bun.spawnSync(cmd, { env: TOOL_ENV, stdin: stdin === undefined ? "ignore" : Buffer.from(stdin) });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return { stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A temporary directory and its removal. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "nocloud-iso-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
