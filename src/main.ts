#!/usr/bin/env bun
// Entry point: only wiring. The CLI decides what to run; the daemon keeps the process alive
// through its listeners and exits from its signal handlers.
import { runCli } from "./cli/run.ts";

const code = await runCli(process.argv.slice(2));
if (code !== undefined) process.exit(code);
