// status, node info, --help on every level, bad usage (exit 2), a bad spec file (exit 2 naming
// the file and the field), and a daemon that is not there (exit 1 with a clear message).

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandDef } from "citty";
import { stripVTControlCharacters } from "node:util";
import { clientCommands } from "../../../src/cli/client/index.ts";
import { renderHelp, rootCommand } from "../../../src/cli/run.ts";
import { cli, closedPort, useDaemonForCli } from "./helpers.ts";

const cliCtx = useDaemonForCli("lq-cli-usage-");
const { dir, run } = cliCtx;

describe("status and node info", () => {
  test("status shows health, node id, registration, version, uptimes and backend", async () => {
    const r = await run("status");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`daemon:       ${cliCtx.addr[1]} (healthy)\n`);
    expect(r.stdout).toMatch(/^node id:\s+\(not assigned yet\)$/m);
    expect(r.stdout).toMatch(/^registered:\s+no$/m);
    expect(r.stdout).toMatch(/^version:\s+\d+\.\d+\.\d+$/m);
    expect(r.stdout).toMatch(/^uptime:\s+\d+s$/m);
    expect(r.stdout).toMatch(/^host uptime:\s+\d+[dhms]( \d+[hms])?$/m);
    expect(r.stdout).toMatch(/^backend:\s+mock/m);
    const json = JSON.parse((await run("status", "--json")).stdout);
    expect(json).toMatchObject({ healthy: true, hypervisor: "mock", registered: false });
    expect(Number(json.daemonUptimeSeconds)).toBeLessThanOrEqual(Number(json.uptimeSeconds));
  });

  test("node info shows the host and the backend's capabilities", async () => {
    const r = await run("node", "info");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^hostname:\s+\S+/m);
    expect(r.stdout).toMatch(/^hypervisor:\s+mock: /m);
    expect(r.stdout).toMatch(/^capabilities:\s+.*snapshots/m);
    expect(r.stdout).toMatch(/^disk formats:\s+qcow2, raw$/m);
    expect(r.stdout).toMatch(/^acceleration:\s+\S+ \(/m);
    expect(r.stdout).toMatch(/^daemon:\s+\d+\.\d+\.\d+, up \d+s$/m);
    const json = JSON.parse((await run("node", "info", "--json")).stdout);
    expect(json.hypervisor.backend).toBe("mock");
    expect(json.capabilities.supportsSnapshots).toBe(true);
  });
});

describe("--help", () => {
  test("every group lists its commands, every command has examples", async () => {
    // As processes for a sample of levels...
    for (const words of [
      ["vm"],
      ["snapshot"],
      ["node"],
      ["pool"],
      ["volume"],
      ["vm", "list"],
      ["vm", "media"],
      ["snapshot", "create"],
      ["pool", "init"],
      ["volume", "resize"],
    ]) {
      const r = await cli([...words, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(words.length === 1 ? "COMMANDS" : "EXAMPLES");
    }
    // ...and every command through renderHelp, which is what run.ts prints for --help.
    const leaves: [string, CommandDef, CommandDef][] = [];
    // Groups nest (vm agent exec): every command without sub-commands is a leaf.
    const collect = (words: string, cmd: CommandDef, parent: CommandDef) => {
      const subs = cmd.subCommands as Record<string, CommandDef> | undefined;
      if (subs) for (const [sub, c] of Object.entries(subs)) collect(`${words} ${sub}`, c, cmd);
      else leaves.push([words, cmd, parent]);
    };
    for (const [name, cmd] of Object.entries(clientCommands) as [string, CommandDef][]) collect(name, cmd, rootCommand as CommandDef);
    expect(leaves.length).toBeGreaterThan(20);
    for (const [words, cmd, parent] of leaves) {
      const usage = stripVTControlCharacters(await renderHelp(cmd, parent));
      expect(usage, words).toContain("EXAMPLES");
      expect(usage, words).toContain(`limiquantix-node ${words}`);
      expect(usage, words).toContain("--addr");
    }
  });

  test("the daemon is still the default command: bare flags start serve", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toContain("--dev");
    for (const c of ["serve", "status", "vm", "snapshot", "metrics", "events", "pool", "volume"]) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\s`, "m"));
  });
});

describe("typos", () => {
  test("an unknown command names the nearest one, or lists the commands; exit 2", async () => {
    const lst = await cli(["vm", "lst"]);
    expect(lst.code).toBe(2);
    expect(lst.stderr).toBe("limiquantix-node: unknown command lst; did you mean vm list? (see limiquantix-node vm --help)\n");
    expect((await cli(["snapshot", "revrt", "web-1", "s1"])).stderr).toContain("did you mean snapshot revert?");
    const far = await cli(["zzz"]);
    expect(far.code).toBe(2);
    expect(far.stderr).toContain("unknown command zzz; the commands are: serve, config, status, node, vm,");
  });
  test("an unknown flag names the nearest one", async () => {
    const r = await cli(["vm", "list", "--lable", "a=b"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown flag --lable; did you mean --label?");
  });
  test("--help lists --help and --version", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toMatch(/^\s+-v, --version\s+Print the version and exit/m);
    expect(r.stdout).toMatch(/^\s+-h, --help\s/m);
  });
});

describe("bad usage exits 2", () => {
  test("unknown flag, missing argument, missing -f, bad filter values", async () => {
    const unknown = await run("vm", "list", "--lable", "a=b");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown flag --lable");
    const missing = await run("vm", "get");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Missing required positional argument: VM");
    const noFile = await run("vm", "create");
    expect(noFile.code).toBe(2);
    const badState = await run("vm", "list", "--state", "sleeping");
    expect(badState.code).toBe(2);
    expect(badState.stderr).toBe('error: --state "sleeping": must be one of running, stopped, paused, suspended, crashed\n');
    const badLabel = await run("vm", "list", "--label", "tier");
    expect(badLabel.stderr).toContain("give key=value");
    const badInterval = await run("metrics", "--interval", "10ms");
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toContain("from 250ms to 1h");
    const badTimeout = await run("vm", "stop", "web-1", "--timeout", "soon");
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toBe('error: --timeout "soon": give whole seconds, e.g. 30 or 2m\n');
    const noMode = await run("events");
    expect(noMode.code).toBe(2);
    expect(noMode.stderr).toContain("--follow");
    expect(noMode.stderr).toContain("--since-start");
    const badSince = await run("events", "--since", "last");
    expect(badSince.code).toBe(2);
    const noMedia = await run("vm", "media", "web-1", "--iso", "x.iso");
    expect(noMedia.code).toBe(2);
    expect(noMedia.stderr).toContain("--cdrom ID");
    const noSize = await run("volume", "resize", "default", "root");
    expect(noSize.code).toBe(2);
    const badAddr = await cli(["status", "--addr", "ftp://x:1"]);
    expect(badAddr.code).toBe(2);
    expect(badAddr.stderr).toContain("the scheme must be http or https");
  });
});

describe("a bad spec file exits 2 naming the file and the field, before anything is sent", () => {
  const cases: [string, string, string][] = [
    ["unknown-field.yaml", "name: a\nmemory_mib: 256\ndisks: [{id: root, sise: 1G}]\n", ": disks[0].sise: unknown field"],
    ["rule.yaml", "name: a\nmemory_mib: 1\n", ": memory_mib: must be between 64 and"],
    ["old-shape.yaml", "name: a\nmemory: {size_mib: 256}\n", ": memory: must be a size with a unit"],
    ["syntax.yaml", "name: [a\n", "not valid YAML"],
  ];
  test.each(cases)("%s", async (file, text, message) => {
    const path = join(dir, file);
    writeFileSync(path, text);
    const before = (await cliCtx.d.grpc.listVMs({})).vms.length;
    const r = await run("vm", "create", "-f", path);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`error: ${path}`);
    expect(r.stderr).toContain(message);
    expect((await cliCtx.d.grpc.listVMs({})).vms.length).toBe(before);
  });

  test("a missing file", async () => {
    const r = await run("vm", "create", "-f", join(dir, "nope.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${join(dir, "nope.yaml")}: no such file\n`);
  });
});

describe("the daemon is down", () => {
  test("every kind of command says it cannot reach the daemon and exits 1", async () => {
    const port = await closedPort();
    const down = ["--addr", `127.0.0.1:${port}`];
    const expected = `error: cannot reach the daemon at 127.0.0.1:${port}: connection refused — is limiquantix-node running?\n`;
    const results = await Promise.all([
      cli(["status", ...down]),
      cli(["vm", "list", ...down]),
      cli(["vm", "get", "web-1", ...down]),
      cli(["metrics", ...down]),
      cli(["events", "--since", "1", ...down]),
      cli(["pool", "list", ...down]),
      cli(["volume", "resize", "default", "root", "--size", "20G", ...down]),
      cli(["vm", "create", "-f", "deploy/vm-spec.example.yaml", ...down]),
    ]);
    for (const r of results) {
      expect(r.stderr).toBe(expected);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
    }
  });
});
