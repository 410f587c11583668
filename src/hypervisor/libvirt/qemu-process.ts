// When a running domain's QEMU process started, for domains that were already running when the
// backend connected (it records the start of those it starts or sees start). libvirt's QEMU
// driver writes each running domain's pid to <run dir>/<name>.pid; the kernel knows when that
// process started. Nothing is reported when either cannot be read: other drivers, remote URIs,
// a daemon without the permission.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { processStartedAt } from "../../telemetry/proc-pid-stat.ts";
import { parseProcStat } from "../../telemetry/proc-stat.ts";
import type { LibvirtContext } from "./context.ts";
import type { RawDomain } from "./ops.ts";
import { isActiveState } from "./state-map.ts";

export interface QemuProcessRoots {
  /** Where libvirt keeps the running domains' pid files; unset when the URI has none here. */
  runDir?: string;
  procRoot: string;
}

/** libvirt's run directory of the local system QEMU driver (qemu:///system, also over its unix socket). */
export function qemuRunDir(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const local = url.protocol === "qemu:" || url.protocol === "qemu+unix:";
  return local && url.hostname === "" && url.pathname === "/system" ? "/run/libvirt/qemu" : undefined;
}

export async function qemuStartedAt(roots: QemuProcessRoots, domainName: string): Promise<Date | undefined> {
  if (roots.runDir === undefined) return undefined;
  try {
    const pid = (await readFile(join(roots.runDir, `${domainName}.pid`), "utf8")).trim();
    if (!/^\d+$/.test(pid)) return undefined;
    const statFile = join(roots.procRoot, pid, "stat");
    const [stat, procStat] = await Promise.all([readFile(statFile, "utf8"), readFile(join(roots.procRoot, "stat"), "utf8")]);
    const boot = parseProcStat(procStat, join(roots.procRoot, "stat")).bootTimeSeconds;
    return boot === undefined ? undefined : processStartedAt(stat, statFile, boot);
  } catch {
    return undefined;
  }
}

/** Records when each running domain's process started, for those whose start the backend did not see. */
export async function recordProcessStarts(ctx: LibvirtContext, domains: readonly RawDomain[], roots: QemuProcessRoots): Promise<void> {
  const unknown = domains.filter((d) => isActiveState(d.state) && !ctx.startedAt.has(d.uuid));
  await Promise.all(
    unknown.map(async (d) => {
      const at = await qemuStartedAt(roots, d.name);
      // An event may have recorded a fresher start meanwhile.
      if (at && !ctx.startedAt.has(d.uuid)) ctx.startedAt.set(d.uuid, at);
    }),
  );
}
