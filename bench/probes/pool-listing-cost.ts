// What listing the storage pools costs, as the heartbeat does it, before and after the rescan
// policy (src/hypervisor/libvirt/pool-rescan.ts): the call Worker's "pools" op run in this process
// on qemu:///system, rescanning every local pool (true: what every heartbeat did) against
// rescanning only changed ones ("changed"). A dir pool of lq14e- with N qcow2 files stands in for
// an operator's pool. CPU is this process's (process.cpuUsage) and libvirtd's (/proc/<pid>/stat).
// Run: LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/pool-listing-cost.ts [files=200] [rounds=20]

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";
import { createOps } from "../../src/hypervisor/libvirt/ops.ts";
import { buildDirPoolXml } from "../../src/hypervisor/libvirt/domain-xml/pool-xml.ts";

const files = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 20);
const name = `lq14e-probe-${crypto.randomUUID().slice(0, 6)}`;
const dir = mkdtempSync("/var/lib/libvirt/images/lq14e-probe-");
for (let i = 0; i < files; i++) Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", join(dir, `v${i}.qcow2`), "1G"]);

const libvirtdPid = Number(Bun.spawnSync(["pgrep", "-xo", "libvirtd"]).stdout.toString().trim());
const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8")
    .slice(readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2)
    .split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};

const c = ffi.openConnection(ffi.loadLibvirt(), "qemu:///system");
const ops = createOps(() => c);
const pool = ffi.definePool(c, buildDirPoolXml({ name, path: dir }));
try {
  ffi.startPool(c, pool);
  ops.pools("changed"); // the first listing rescans; later ones see the folder unchanged
  for (const mode of [true, "changed", true, "changed"] as const) {
    const cpu0 = process.cpuUsage();
    const d0 = ticks(libvirtdPid);
    const t0 = performance.now();
    let count = 0;
    for (let i = 0; i < rounds; i++) count = ops.pools(mode).find((p) => p.name === name)?.volumeCount ?? -1;
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `pools(${JSON.stringify(mode)}): ${((cpu.user + cpu.system) / 1000 / rounds).toFixed(2)} ms daemon CPU, ` +
        `${((ticks(libvirtdPid) - d0) / rounds).toFixed(1)} ms libvirtd CPU, ${(wall / rounds).toFixed(1)} ms wall per listing; ` +
        `${count} volumes in ${name}`,
    );
  }
} finally {
  if (ffi.poolIsActive(c, pool)) ffi.stopPool(c, pool);
  ffi.undefinePool(c, pool);
  ffi.freePool(c, pool);
  ffi.closeConnection(c);
  rmSync(dir, { recursive: true, force: true });
}
