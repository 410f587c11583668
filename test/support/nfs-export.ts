// A real NFS export on loopback for the real tier: Debian's nfs-ganesha (a user-space NFSv4
// server with its VFS backend) exporting a temp folder, so no kernel NFS server is needed.
// scripts/setup-libvirt.sh installs it. The server runs in the background until stop().

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export const GANESHA = "/usr/bin/ganesha.nfsd";

export interface NfsExport {
  server: string;
  port: number;
  /** The NFSv4 path clients mount (server:exportPath). */
  exportPath: string;
  /** The exported folder on this host: files written here appear in the export. */
  folder: string;
  stop(): void;
}

function ganeshaConfig(folder: string, pseudo: string, port: number, recovery: string): string {
  return `NFS_CORE_PARAM {
  Protocols = 4;
  NFS_Port = ${port};
  Bind_addr = 127.0.0.1;
  Enable_NLM = false;
  Enable_RQUOTA = false;
}
NFSv4 { Graceless = true; RecoveryBackend = fs; RecoveryRoot = ${recovery}; }
EXPORT {
  Export_Id = 1;
  Path = ${folder};
  Pseudo = ${pseudo};
  Access_Type = RW;
  Squash = No_Root_Squash;
  Protocols = 4;
  Transports = TCP;
  SecType = sys;
  FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
`;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export async function startNfsExport(name: string): Promise<NfsExport> {
  const dir = mkdtempSync(join(tmpdir(), "lq-nfs-"));
  const folder = join(dir, "export");
  const recovery = join(dir, "recovery");
  mkdirSync(folder, { mode: 0o755 });
  mkdirSync(recovery);
  const port = await freePort();
  const pidFile = join(dir, "ganesha.pid");
  const logFile = join(dir, "ganesha.log");
  const exportPath = `/${name}`;
  writeFileSync(join(dir, "ganesha.conf"), ganeshaConfig(folder, exportPath, port, recovery));
  const run = spawnSync(GANESHA, ["-f", join(dir, "ganesha.conf"), "-L", logFile, "-p", pidFile, "-N", "NIV_EVENT"], { encoding: "utf8" });
  const stop = () => {
    try {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (pid > 0) process.kill(pid, "SIGTERM");
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  if (run.status !== 0) {
    stop();
    throw new Error(`${GANESHA} failed (${run.status}): ${run.stderr}`);
  }
  // It forks into the background; its port answers once it serves (bounded wait).
  for (let i = 0; i < 300 && !(await answers(port)); i++) await Bun.sleep(50);
  if (!(await answers(port))) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "(no log)";
    stop();
    throw new Error(`nfs-ganesha did not listen on 127.0.0.1:${port} within 15 s: ${log}`);
  }
  return { server: "127.0.0.1", port, exportPath, folder, stop };
}

/** The export's root listing as a client sees it (libnfs's nfs-ls, a user-space NFS client). */
export function listExport(e: NfsExport): string {
  const r = spawnSync("nfs-ls", [`nfs://${e.server}${e.exportPath}/?version=4&nfsport=${e.port}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`nfs-ls failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
