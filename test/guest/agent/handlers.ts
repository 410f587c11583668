// The test guest agent's answers to the host's requests (contract 4.4). Each returns the reply's
// payload; requests it does not handle get no reply (undefined). Effects inside the guest that a
// test checks afterwards (a freeze, a thaw, a shutdown) go to the agent's log.

import { lstatSync, mkdirSync, openSync, closeSync, readdirSync, readSync, readlinkSync, statSync, writeSync, chmodSync, fstatSync } from "node:fs";
import { dirname, join } from "node:path";
import os from "node:os";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { type AgentMessage, type AgentMessageSchema, ShutdownType } from "../../../src/gen/limiquantix/agent/v1/agent_pb.ts";
import { AGENT_VERSION, mounts } from "./facts.ts";

export type Reply = MessageInitShape<typeof AgentMessageSchema>["payload"];
type Req<C extends NonNullable<AgentMessage["payload"]["case"]>> = Extract<AgentMessage["payload"], { case: C }>["value"];

const CHUNK = 64 * 1024;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface Effects {
  log(message: string): void;
  /** Runs /sbin/poweroff, /sbin/reboot or /sbin/halt (busybox: a signal to PID 1). */
  power(kind: "poweroff" | "reboot" | "halt"): void;
}

async function execute(r: Req<"execute">): Promise<Reply> {
  const started = performance.now();
  const argv = r.args.length > 0 ? [r.command, ...r.args] : ["sh", "-c", r.command];
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, {
      cwd: r.workingDirectory || "/",
      env: { PATH: "/bin:/sbin:/usr/bin:/usr/sbin", HOME: "/root", ...r.environment },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (err) {
    return { case: "executeResponse", value: { exitCode: -1, error: `cannot run ${argv[0]}: ${errText(err)}` } };
  }
  if (!r.waitForExit) return { case: "executeResponse", value: { exitCode: 0, durationMs: 0n } };
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      proc.kill("SIGKILL");
    },
    (r.timeoutSeconds || 60) * 1000,
  );
  const max = r.maxOutputBytes || DEFAULT_MAX_OUTPUT;
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout as ReadableStream).text(),
    new Response(proc.stderr as ReadableStream).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const truncated = stdout.length > max || stderr.length > max;
  return {
    case: "executeResponse",
    value: {
      exitCode: timedOut ? -1 : exitCode,
      stdout: stdout.slice(0, max),
      stderr: stderr.slice(0, max),
      truncated,
      timedOut,
      durationMs: BigInt(Math.round(performance.now() - started)),
    },
  };
}

function fileWrite(w: Req<"fileWrite">): Reply {
  try {
    if (w.createParents) mkdirSync(dirname(w.path), { recursive: true });
    const offset = Number(w.offset);
    // The first chunk (offset 0) replaces the file; later ones write at their offset.
    const fd = openSync(w.path, w.append ? "a" : offset === 0 ? "w" : "r+", w.mode || 0o644);
    try {
      if (offset === 0 && w.mode) chmodSync(w.path, w.mode & 0o7777);
      let at = 0;
      while (at < w.data.length) at += writeSync(fd, w.data, at, w.data.length - at, w.append ? null : offset + at);
    } finally {
      closeSync(fd);
    }
    return { case: "fileWriteResponse", value: { success: true, bytesWritten: BigInt(w.data.length), chunkNumber: w.chunkNumber } };
  } catch (err) {
    return { case: "fileWriteResponse", value: { success: false, error: errText(err), chunkNumber: w.chunkNumber } };
  }
}

function fileRead(r: Req<"fileRead">): Reply {
  try {
    const fd = openSync(r.path, "r");
    try {
      const st = fstatSync(fd);
      const offset = Number(r.offset);
      const want = Math.min(r.chunkSize || CHUNK, Number(r.length) || Number.POSITIVE_INFINITY, Math.max(0, st.size - offset));
      const data = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, data, got, want - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return {
        case: "fileReadResponse",
        value: {
          success: true,
          data: data.subarray(0, got),
          eof: offset + got >= st.size,
          totalSize: BigInt(st.size),
          offset: r.offset,
          mode: st.mode & 0o7777,
          modifiedAt: timestampFromMs(Math.floor(st.mtimeMs)),
        },
      };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return { case: "fileReadResponse", value: { success: false, error: errText(err) } };
  }
}

function listDirectory(r: Req<"listDirectory">): Reply {
  try {
    const names = readdirSync(r.path)
      .filter((n) => r.includeHidden || !n.startsWith("."))
      .sort();
    const entries = names.slice(0, r.maxEntries || undefined).map((name) => {
      const path = join(r.path, name);
      const l = lstatSync(path);
      const s = l.isSymbolicLink()
        ? (() => {
            try {
              return statSync(path);
            } catch {
              return l;
            }
          })()
        : l;
      return {
        name,
        path,
        isDirectory: s.isDirectory(),
        isSymlink: l.isSymbolicLink(),
        sizeBytes: BigInt(s.size),
        mode: s.mode & 0o7777,
        modifiedAt: timestampFromMs(Math.floor(s.mtimeMs)),
        symlinkTarget: l.isSymbolicLink() ? readlinkSync(path) : "",
      };
    });
    return { case: "listDirectoryResponse", value: { success: true, entries, totalEntries: names.length } };
  } catch (err) {
    return { case: "listDirectoryResponse", value: { success: false, error: errText(err) } };
  }
}

/** fsfreeze (busybox's applet) on each mount point; the state survives between requests. */
function createFreezer(fx: Effects) {
  let frozen: { token: string; at: number; mountPoints: string[]; autoThaw: ReturnType<typeof setTimeout> } | undefined;
  const run = (flag: "--freeze" | "--unfreeze", mountPoint: string) => {
    const r = Bun.spawnSync(["fsfreeze", flag, mountPoint], { stderr: "pipe" });
    return r.exitCode === 0 ? "" : r.stderr.toString().trim() || `fsfreeze exited with ${r.exitCode}`;
  };

  function thaw(why: string, only: string[] = []): { thawed: string[]; errors: string[]; durationMs: number } {
    if (!frozen) return { thawed: [], errors: [], durationMs: 0 };
    const f = frozen;
    const targets = only.length > 0 ? f.mountPoints.filter((m) => only.includes(m)) : f.mountPoints;
    const thawed: string[] = [];
    const errors: string[] = [];
    for (const m of targets) {
      const e = run("--unfreeze", m);
      if (e) errors.push(`${m}: ${e}`);
      else thawed.push(m);
    }
    f.mountPoints = f.mountPoints.filter((m) => !thawed.includes(m));
    if (f.mountPoints.length === 0) {
      clearTimeout(f.autoThaw);
      frozen = undefined;
    }
    fx.log(`thawed ${thawed.join(" ") || "nothing"} (${why})${errors.length ? `; errors: ${errors.join("; ")}` : ""}`);
    return { thawed, errors, durationMs: Date.now() - f.at };
  }

  return {
    quiesce(r: Req<"quiesce">): Reply {
      if (frozen) return { case: "quiesceResponse", value: { success: false, error: `already frozen (token ${frozen.token})` } };
      // The root of this guest lives in memory: only real block devices are frozen.
      const all = mounts().filter((m) => m.mountPoint !== "/" && m.filesystem !== "iso9660");
      const targets = r.mountPoints.length > 0 ? all.filter((m) => r.mountPoints.includes(m.mountPoint)) : all;
      const results = targets.map((m) => {
        const error = run("--freeze", m.mountPoint);
        fx.log(error ? `could not freeze ${m.mountPoint}: ${error}` : `froze ${m.mountPoint}`);
        return { ...m, frozen: !error, error };
      });
      const token = crypto.randomUUID();
      const timeoutMs = (r.timeoutSeconds || 60) * 1000;
      const ok = results.filter((f) => f.frozen).map((f) => f.mountPoint);
      if (ok.length > 0) {
        frozen = { token, at: Date.now(), mountPoints: ok, autoThaw: setTimeout(() => thaw("the host did not thaw in time"), timeoutMs) };
      }
      const failed = results.filter((f) => !f.frozen);
      return {
        case: "quiesceResponse",
        value: {
          success: failed.length === 0,
          frozen: results,
          error: failed.map((f) => `${f.mountPoint}: ${f.error}`).join("; "),
          quiesceToken: ok.length > 0 ? token : "",
          autoThawAt: timestampFromMs(Date.now() + timeoutMs),
        },
      };
    },
    thaw(r: Req<"thaw">): Reply {
      if (frozen && r.quiesceToken && r.quiesceToken !== frozen.token) {
        return { case: "thawResponse", value: { success: false, error: `unknown quiesce token ${r.quiesceToken}` } };
      }
      const t = thaw("asked by the host", r.mountPoints);
      return {
        case: "thawResponse",
        value: { success: t.errors.length === 0, thawedMountPoints: t.thawed, error: t.errors.join("; "), frozenDurationMs: BigInt(t.durationMs) },
      };
    },
  };
}

function syncTime(r: Req<"syncTime">): Reply {
  const before = Date.now();
  // A time from the host wins; otherwise the RTC (the host's clock, as QEMU presents it).
  const cmd = r.setTime ? ["date", "-u", "-s", `@${Math.floor(timestampMs(r.setTime) / 1000)}`] : ["hwclock", "-s", "-u"];
  const p = Bun.spawnSync(cmd, { stderr: "pipe", stdout: "ignore" });
  if (p.exitCode !== 0)
    return { case: "syncTimeResponse", value: { success: false, error: p.stderr.toString().trim() || `${cmd[0]} exited with ${p.exitCode}` } };
  const after = Date.now();
  return {
    case: "syncTimeResponse",
    value: { success: true, offsetSeconds: (after - before) / 1000, currentTime: timestampFromMs(after), timeSource: r.setTime ? "host" : "rtc" },
  };
}

export function createHandlers(fx: Effects) {
  const freezer = createFreezer(fx);
  return async function handle(m: AgentMessage): Promise<Reply | undefined> {
    const p = m.payload;
    switch (p.case) {
      case "ping":
        return { case: "pong", value: { sequence: p.value.sequence, version: AGENT_VERSION, uptimeSeconds: BigInt(Math.floor(os.uptime())) } };
      case "execute":
        return execute(p.value);
      case "fileWrite":
        return fileWrite(p.value);
      case "fileRead":
        return fileRead(p.value);
      case "listDirectory":
        return listDirectory(p.value);
      case "shutdown": {
        const kind = p.value.type === ShutdownType.REBOOT ? "reboot" : p.value.type === ShutdownType.HALT ? "halt" : "poweroff";
        fx.log(`shutdown requested by the host: ${kind}${p.value.message ? ` (${p.value.message})` : ""}`);
        // After the reply has gone out.
        setTimeout(() => fx.power(kind), 200 + p.value.delaySeconds * 1000);
        return { case: "shutdownResponse", value: { accepted: true } };
      }
      case "quiesce":
        return freezer.quiesce(p.value);
      case "thaw":
        return freezer.thaw(p.value);
      case "syncTime":
        return syncTime(p.value);
      default:
        return undefined;
    }
  };
}
