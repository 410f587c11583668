// `bun run bench --smoke` end to end: every section runs against real servers with a handful
// of requests and writes its table. Nothing is timed here, so no budget is judged; a broken
// benchmark (server that does not start, gRPC errors, a parse failure) fails the run.

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const h2load = Bun.which("h2load") !== null;

test("the bench runner runs every section in smoke mode and writes the table", async () => {
  if (!h2load) console.warn("h2load is missing (apt-get install nghttp2-client): the load sections will report themselves skipped");
  const dir = mkdtempSync(join(tmpdir(), "lq-bench-smoke-"));
  try {
    const out = join(dir, "results.md");
    const proc = Bun.spawn([process.execPath, join(ROOT, "bench", "run.ts"), "--smoke", "--out", out], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) console.error(stderr.slice(-4000));
    expect(code).toBe(0);
    const md = readFileSync(out, "utf8");
    expect(stdout).toContain("# Benchmark results");
    expect(md).toMatch(/- machine: \d+ cores, .+; load average/);
    expect(md).toContain(`Bun ${Bun.version}`);
    expect(md).not.toContain("| FAILED |");
    for (const section of ["floor", "scale", "events", "metrics", "binary", "telemetry", "libvirt", "beyond", "load"]) {
      expect(md).toContain(`| ${section} |`);
    }
    if (h2load) {
      expect(md).toMatch(/\| floor \| HealthCheck \/ floor \| [\d.]+ \| x \| >= 0\.900 \|/);
      expect(md).toMatch(/\| scale \| ListVMs, 10,000 VMs, p50 \| [\d.,]+ \| ms \|/);
      expect(md).toMatch(/\| events \| StreamEvents, 3 subscribers \| [\d.,]+ \| events\/s \|/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 400_000);

test("unknown sections and arguments are refused with the usage", async () => {
  const run = (args: string[]) => Bun.spawnSync([process.execPath, join(ROOT, "bench", "run.ts"), ...args], { cwd: ROOT });
  const unknown = run(["--only", "nope"]);
  expect(unknown.exitCode).toBe(2);
  expect(unknown.stderr.toString()).toContain("unknown section nope; sections: floor, scale");
  const bad = run(["--fast"]);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr.toString()).toContain("usage: bun run bench");
});
