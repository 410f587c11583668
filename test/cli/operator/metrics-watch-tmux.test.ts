// `metrics --watch` (and the migration bar) on a real terminal: tmux runs it in a 120x40 pane, the test reads the screen
// it draws, quits it with q and with Ctrl-C, and checks the exit code and that the terminal
// (screen contents and tty modes) is back as it was.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestDaemon, type TestDaemon } from "../../support/daemon.ts";
import { MAIN, ROOT } from "./helpers.ts";

const tmuxPath = Bun.which("tmux");
if (tmuxPath === null) {
  if (process.env.CI === "true") throw new Error("tmux is required in CI (Debian package tmux; scripts/install-test-deps.sh)");
  console.warn("tmux not found: skipping the metrics --watch terminal tests (apt-get install tmux)");
}

// A server of our own (-L), so the test never touches anyone's tmux sessions.
const socket = `lq-test-${process.pid}`;
let d: TestDaemon;

function tmux(...args: string[]): string {
  const r = Bun.spawnSync([tmuxPath!, "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

// -J joins lines the terminal wrapped, so a long command line (a deep checkout path) reads whole.
const screen = (session: string) => tmux("capture-pane", "-p", "-J", "-t", session);

async function waitForScreen(session: string, re: RegExp, ms = 8000): Promise<string> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    last = screen(session);
    if (re.test(last)) return last;
    await Bun.sleep(50);
  }
  throw new Error(`screen never matched ${re}; last screen:\n${last}`);
}

beforeAll(async () => {
  if (tmuxPath === null) return;
  d = await startTestDaemon();
  await d.grpc.createVM({
    vmId: crypto.randomUUID(),
    name: "watched-1",
    start: true,
    spec: { cpuSockets: 1, cpuCores: 2, cpuThreadsPerCore: 1, memoryMib: 1024n },
  });
});

afterAll(async () => {
  if (tmuxPath === null) return;
  Bun.spawnSync([tmuxPath, "-L", socket, "kill-server"], { stderr: "ignore" });
  await d.stop();
});

describe.skipIf(tmuxPath === null)("on a terminal (tmux)", () => {
  const keys: [string, string][] = [
    ["q", "q"],
    ["Ctrl-C", "C-c"],
  ];
  test.each(keys)(
    "draws host and VM figures, and %s quits with exit 0 and a restored terminal",
    async (_name, key) => {
      const session = `m${key.replace(/\W/g, "")}`;
      tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", session, "-c", ROOT, "env PS1='$ ' bash --norc --noprofile");
      // The shell records the tty modes before and compares after: raw mode must be undone.
      const command = `S=$(stty -g); ${process.execPath} ${MAIN} metrics --watch --interval 250ms --addr 127.0.0.1:${d.daemon.api.port}; echo "EXIT=$?"; [ "$(stty -g)" = "$S" ] && echo TTY=RESTORED`;
      tmux("send-keys", "-t", session, command, "Enter");

      const drawn = await waitForScreen(session, /watched-1\s+running/);
      expect(drawn).toMatch(/^limiquantix-node metrics\s+127\.0\.0\.1:\d+\s+every 250ms\s+\d\d:\d\d:\d\d UTC\s+\(q or Ctrl-C quits\)/m);
      expect(drawn).toMatch(/^host cpu\s+(\d+\.\d% \[[#.]{20}\]|– \(measuring\))/m);
      expect(drawn).toMatch(/^host memory\s+\d+\.\d% \[[#.]{20}\]\s+\S+ \S+ used of /m);
      expect(drawn).toMatch(/^VM\s+STATE\s+VCPUS\s+CPU\s+MEMORY\s+DISK READ \/ WRITE\s+NET RX \/ TX$/m);
      expect(drawn).toMatch(/^watched-1\s+running\s+2\s+\d+\.\d%\s+\S+ \S+ \/ 1\.0 GiB/m);
      // The alternate screen: the command line that started it is not visible while it runs.
      expect(drawn).not.toContain("EXIT=");
      for (const line of drawn.split("\n")) expect(line.length).toBeLessThanOrEqual(120);

      // It redraws: the clock in the title changes.
      const title = /\d\d:\d\d:\d\d UTC/.exec(drawn)![0];
      await waitForScreen(session, new RegExp(`\\d\\d:\\d\\d:\\d\\d UTC(?<!${title})`), 3000);

      tmux("send-keys", "-t", session, key);
      const after = await waitForScreen(session, /EXIT=\d+/);
      expect(after).toContain("EXIT=0");
      expect(after).toContain("TTY=RESTORED");
      // Back on the normal screen: the view is gone and the shell's own lines are there.
      expect(after).not.toMatch(/^host cpu/m);
      expect(after).toContain("metrics --watch --interval 250ms");
      tmux("kill-session", "-t", session);
    },
    15_000,
  );

  test("vm migrate draws one progress bar, redrawn in place, on a terminal", async () => {
    await d.grpc.createVM({
      vmId: crypto.randomUUID(),
      name: "moving-1",
      start: true,
      spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n },
    });
    const session = "migrate";
    tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", session, "-c", ROOT, "env PS1='$ ' bash --norc --noprofile");
    tmux(
      "send-keys",
      "-t",
      session,
      `clear; ${process.execPath} ${MAIN} vm migrate moving-1 --to qemu+tcp://node-2.example/system --addr 127.0.0.1:${d.daemon.api.port}; echo "EXIT=$?"`,
      "Enter",
    );
    const after = await waitForScreen(session, /EXIT=\d+/);
    expect(after).toContain("EXIT=0");
    const bars = after.split("\n").filter((l) => l.startsWith("["));
    expect(bars).toEqual([`[${"#".repeat(30)}] 100% complete 256 MiB / 256 MiB`]);
    expect(after).toMatch(/^vm moving-1 \([0-9a-f-]{36}\) migrated to node-2\.example$/m);
    expect(after).not.toContain("migration:");
    tmux("kill-session", "-t", session);
  }, 15_000);
});
