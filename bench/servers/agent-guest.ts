// The daemon with the libvirt backend on qemu:///system and one real test guest
// (scripts/build-test-guest.sh's ISO, created and started through the daemon's own API), for the
// agent section. Prints `READY {"port","pid","vmId","socket"}` once the guest's agent answers;
// then answers (see bench/lib/child.ts):
//   release -> OK {}: the daemon stops (the guest keeps running), so another client can have the
//              agent socket (QEMU serves one client at a time)
//   bare N  -> OK {"ms":[...]}: N sequential bare QTX1 pings from this process (released only):
//              PingAgent minus these is what the daemon's own work adds
//   attach  -> OK {"port","pid"}: a daemon again, once the guest's agent answers it
//   manager N -> OK {"ms":[...]}: N sequential pings through the daemon's agent manager, in this
//              process (attached only): the daemon's agent path without gRPC
// SIGTERM destroys the guest and removes everything.
// Usage: bun bench/servers/agent-guest.ts   (needs scripts/setup-libvirt.sh's libvirtd)

import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { agentSocketPath } from "../../src/agent/socket-path.ts";
import { createLogger } from "../../src/common/logger.ts";
import { startDaemon, type Daemon } from "../../src/daemon.ts";
import { NodeDaemonService, StoragePoolType } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createBackend } from "../../src/hypervisor/create-backend.ts";
import { buildTestGuest } from "../../test/guest/guest-image.ts";
import { realCpuDisabledFeatures, realNetwork, realTierStorage, virshQuietly } from "../../test/hypervisor/libvirt/real/helpers.ts";
import { tempDaemonConfig } from "../../test/support/temp-config.ts";
import { barePings } from "../lib/qtx-ping.ts";
import { serveCommands } from "./commands.ts";

const URI = "qemu:///system";
// Its own pool id per run, so that a run in another clone (or one that died) cannot collide with it.
const POOL_ID = crypto.randomUUID();
const override = process.env.LIMIQUANTIX_GUEST_DOMAIN_TYPE;
// TCG unless LIMIQUANTIX_GUEST_DOMAIN_TYPE=kvm, as in test/libvirt-api/real-guest-agent.test.ts: nested
// KVM on some machines takes minutes to run the ISO's BIOS and GRUB; TCG boots it in ~20-30 s.
const domainType: "kvm" | "qemu" = override === "kvm" ? "kvm" : "qemu";

const image = buildTestGuest();
const storage = realTierStorage("lq-bench-agent-");
const { config } = tempDaemonConfig("lq-bench-agent-", { backend: "libvirt", libvirtUri: URI });
config.node.stateDir = storage.root;
config.hypervisor.storagePath = storage.storagePath;
config.agent.socketDir = join(storage.root, "agent");
config.hypervisor.defaultNetwork = realNetwork();
config.hypervisor.cpuDisabledFeatures = domainType === "qemu" ? [] : realCpuDisabledFeatures();
config.server.shutdownTimeoutSeconds = 1;
const log = createLogger({ level: "error", format: "text" });
const vmId = crypto.randomUUID();
let daemon: Daemon | undefined;

async function up(): Promise<{ port: number; pid: number }> {
  const hypervisor = await createBackend(config, log, { poolName: storage.poolName, domainType });
  daemon = await startDaemon(config, log, { hypervisor });
  const d = daemon;
  for (let i = 0; i < 1200 && !d.agents.connected(vmId); i++) await Bun.sleep(250);
  if (!d.agents.connected(vmId)) throw new Error("the guest's agent did not answer within 5 minutes");
  return { port: d.api.port, pid: process.pid };
}

const hypervisor = await createBackend(config, log, { poolName: storage.poolName, domainType });
daemon = await startDaemon(config, log, { hypervisor });
const grpc = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${daemon.api.port}` }));
const poolDir = join(storage.root, "pools", "bench");
mkdirSync(join(poolDir, "iso"), { recursive: true });
copyFileSync(image.iso, join(poolDir, "iso", "guest.iso"));
await grpc.initStoragePool({ poolId: POOL_ID, type: StoragePoolType.LOCAL_DIR, config: { local: { path: poolDir } } });
await grpc.createVM({
  vmId,
  name: `bench-agent-${vmId.slice(0, 8)}`,
  spec: {
    cpuSockets: 1,
    cpuCores: 2,
    cpuThreadsPerCore: 1,
    memoryMib: 512n,
    disks: [{ id: "data", sizeGib: 1n, poolId: POOL_ID }],
    cdroms: [{ id: "cd0", isoPath: "iso/guest.iso", bootable: true }],
    nics: [{ id: "eth0" }],
    cloudInit: { userData: "#cloud-config\nhostname: bench-guest\n" },
  },
  start: true,
});
await daemon.stop();
const first = await up();

serveCommands(
  { ...first, vmId, socket: agentSocketPath(config.agent.socketDir, vmId) },
  {
    async release() {
      await daemon?.stop();
      daemon = undefined;
      return {};
    },
    async bare([n]) {
      if (daemon) throw new Error("bare pings need the socket: release first");
      return { ms: await barePings(agentSocketPath(config.agent.socketDir, vmId), Number(n ?? 100)) };
    },
    attach: () => up(),
    async manager([n]) {
      const d = daemon;
      if (!d) throw new Error("no daemon: attach first");
      const ms: number[] = [];
      for (let i = 0; i < 5 + Number(n ?? 100); i++) {
        const t = performance.now();
        await d.agents.ping(vmId, { sequence: 2 });
        if (i >= 5) ms.push(performance.now() - t);
      }
      return { ms };
    },
  },
  async () => {
    virshQuietly(["destroy", vmId], ["undefine", vmId, "--snapshots-metadata", "--nvram"], ["pool-destroy", POOL_ID], ["pool-undefine", POOL_ID]);
    await daemon?.stop();
    storage.remove();
  },
);
