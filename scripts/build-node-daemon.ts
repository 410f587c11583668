#!/usr/bin/env bun
// Builds the one-file daemon, as the seed's build-node-daemon.sh does:
//   1. delete the generated protobuf code, 2. regenerate it from proto/,
//   3. check that everything compiles, 4. bun build --compile,
//   5. run the binary's --version, 6. print install instructions.
// Usage: bun scripts/build-node-daemon.ts [--debug] [--target linux-x64|linux-arm64|darwin-arm64] [--outfile PATH]

import { rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { compileCommand } from "./compile-command.ts";

const root = resolve(import.meta.dir, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const TARGETS = ["linux-x64", "linux-arm64", "darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];

function parseArgs(argv: string[]) {
  const opts: { debug: boolean; target?: Target; outfile?: string } = { debug: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--debug") opts.debug = true;
    else if (arg === "--target") opts.target = argv[++i] as Target;
    else if (arg === "--outfile") opts.outfile = argv[++i];
    else if (arg === "--help" || arg === "-h") {
      console.log("usage: bun scripts/build-node-daemon.ts [--debug] [--target linux-x64|linux-arm64|darwin-arm64] [--outfile PATH]");
      process.exit(0);
    } else fail(`unknown argument ${arg}`, 2);
  }
  if (opts.target && !TARGETS.includes(opts.target)) fail(`--target must be one of ${TARGETS.join(", ")}`, 2);
  return opts;
}

function fail(message: string, code = 1): never {
  console.error(`build: ${message}`);
  process.exit(code);
}

function step(title: string, cmd: string[]) {
  console.log(`\n==> ${title}\n    ${cmd.map((c) => relative(root, c) || c).join(" ")}`);
  const started = performance.now();
  // buf finds protoc-gen-es on PATH: put the project's tools first, as `npm run` does.
  const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };
  const r = Bun.spawnSync(cmd, { cwd: root, env, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) fail(`${title} failed (exit ${r.exitCode})`);
  console.log(`    ok in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function hostTarget(): Target | undefined {
  const t = `${process.platform}-${process.arch}`;
  return (TARGETS as readonly string[]).includes(t) ? (t as Target) : undefined;
}

const opts = parseArgs(process.argv.slice(2));
const target = opts.target ?? hostTarget();
const crossCompiling = target !== hostTarget();
const outfile = resolve(opts.outfile ?? join(root, "dist", crossCompiling ? `limiquantix-node-${target}` : "limiquantix-node"));

console.log(`Building limiquantix-node (${opts.debug ? "debug" : "release"}) for ${target ?? "this host"}`);

// 1-2. Stale generated code is the failure the seed's build guide spends a page on: never reuse it.
rmSync(join(root, "src", "gen"), { recursive: true, force: true });
step("regenerate protobuf code", [bin("buf"), "generate"]);
// 3.
step("type-check", [bin("tsc"), "--noEmit", "-p", "."]);
// 4.
const build = compileCommand({ root, outfile, debug: opts.debug, target });
step("compile", build);
// 5.
if (!crossCompiling) step("run --version", [outfile, "--version"]);

const mib = (statSync(outfile).size / 1024 / 1024).toFixed(1);
console.log(`
Built ${relative(process.cwd(), outfile)} (${mib} MiB)

Install on a hypervisor host:
  sudo install -m 0755 ${relative(process.cwd(), outfile)} /usr/local/bin/limiquantix-node
  sudo install -d /etc/limiquantix && sudo install -m 0644 deploy/node.yaml /etc/limiquantix/node.yaml
  sudo install -m 0644 deploy/limiquantix-node.service /etc/systemd/system/limiquantix-node.service
  sudo systemctl daemon-reload && sudo systemctl enable --now limiquantix-node
  journalctl -u limiquantix-node -f
`);
