// Every command the README's "Operating a node" section shows is run here, in order, against a
// test daemon standing in for `npm run dev`, and must exit 0. The long-running ones (--watch,
// --follow) run until they have printed, then get Ctrl-C, as a person would do.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestDaemon, type TestDaemon } from "../../support/daemon.ts";
import { addrOf, cli, ROOT, spawnCli } from "./helpers.ts";

const PREFIX = "npx bun src/main.ts ";

/** The command lines of the section's code blocks (comments cut), as argument lists. */
export function readmeCommands(readme: string): string[][] {
  const start = readme.indexOf("## Operating a node");
  const end = readme.indexOf("\n## ", start + 1);
  if (start < 0) throw new Error('README.md has no "## Operating a node" section');
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line.startsWith(PREFIX))
    .map((line) => line.slice(PREFIX.length).split(/\s+/));
}

const commands = readmeCommands(readFileSync(join(ROOT, "README.md"), "utf8"));
const longRunning = (args: string[]) => args.includes("--watch") || args.includes("--follow");

let d: TestDaemon;
beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(() => d.stop());

describe("README: Operating a node", () => {
  test("the section shows the walk-through the issue asks for", () => {
    const shown = commands.map((c) => c.slice(0, 2).join(" "));
    for (const c of ["vm create", "vm list", "vm console", "snapshot create", "metrics --watch", "events --follow", "vm stop", "vm delete"]) {
      expect(shown).toContain(c);
    }
    const section = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(section).toContain("npm run dev");
    expect(section).toContain("vm create -f deploy/vm-spec.example.yaml --start");
  });

  test("every command in it exits 0, in the order shown", async () => {
    const addr = addrOf(d.baseUrl);
    for (const args of commands) {
      const words = args.join(" ");
      if (!longRunning(args)) {
        const r = await cli([...args, ...addr]);
        expect(`${words} -> ${r.code}\n${r.stderr}`).toBe(`${words} -> 0\n`);
        continue;
      }
      const p = spawnCli([...args, ...addr]);
      try {
        if (args.includes("--follow")) {
          // Something must happen to follow: a state change of the README's VM.
          const deadline = Date.now() + 5000;
          while (d.daemon.events.subscriberCount() === 0 && Date.now() < deadline) await Bun.sleep(20);
          await d.grpc.rebootVM({ vmId: (await d.grpc.listVMs({})).vms.find((v) => v.name === "web-1")!.vmId });
          await p.waitFor(/vm_rebooted web-1/);
        } else {
          await p.waitFor(/web-1\s+running/);
        }
        p.proc.kill("SIGINT");
        expect(`${words} -> ${await p.exit()}\n${p.stderr()}`).toBe(`${words} -> 0\n`);
      } finally {
        p.proc.kill("SIGKILL");
      }
    }
    expect((await d.grpc.listVMs({})).vms).toEqual([]);
  }, 20_000);
});
