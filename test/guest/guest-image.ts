// The real tier's test guest image: scripts/build-test-guest.sh builds it (or finds it in its
// cache, keyed by its inputs) and says where it is.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface GuestImage {
  iso: string;
  /** `uname -r` of the kernel packed into it. */
  kernelVersion: string;
  /** How long the script took (a cached image: about a second). */
  buildMs: number;
}

export function buildTestGuest(): GuestImage {
  const started = performance.now();
  const script = join(import.meta.dir, "..", "..", "scripts", "build-test-guest.sh");
  const r = Bun.spawnSync(["bash", script], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`scripts/build-test-guest.sh failed (${r.exitCode}):\n${r.stderr.toString()}`);
  const dir = r.stdout.toString().trim().split("\n").pop() ?? "";
  const env = Object.fromEntries(
    readFileSync(join(dir, "guest.env"), "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { iso: join(dir, "guest.iso"), kernelVersion: env.KERNEL_VERSION ?? "", buildMs: performance.now() - started };
}
