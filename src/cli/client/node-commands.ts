// `status` (is the daemon up and well) and `node info` (what this host is and offers).

import { defineCommand } from "citty";
import {
  DiskFormatSchema,
  HealthCheckResponseSchema,
  type HypervisorCapabilities,
  NodeInfoResponseSchema,
  type StorageInfo,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { EXIT_FAILURE } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { runClient } from "./failures.ts";
import { bytes, duration, enumLabel, fields, jsonText, labelsText, NOT_MEASURED } from "./format.ts";

const yesNo = (b: boolean) => (b ? "yes" : "no");

export const statusCommand = defineCommand({
  meta: { name: "status", description: "Health, registration, node id, version, uptime and backend of the daemon (exit 1 when unhealthy)" },
  args: withExamples(clientArgs, ["status", "status --addr 10.0.0.5:9090 --tls --ca /etc/limiquantix/certs/ca.crt", "status --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out, err }) => {
      const h = await conn.client.healthCheck({});
      if (args.json) out(jsonText(HealthCheckResponseSchema, h));
      else {
        out(
          fields([
            ["daemon", `${conn.target.display} (${h.healthy ? "healthy" : `unhealthy: ${h.message}`})`],
            ["node id", h.nodeId || "(not assigned yet)"],
            ["registered", yesNo(h.registered)],
            ["version", h.version],
            ["uptime", duration(h.daemonUptimeSeconds)],
            ["host uptime", duration(h.uptimeSeconds)],
            ["backend", [h.hypervisor, h.hypervisorVersion].filter(Boolean).join(" ")],
          ]),
        );
      }
      if (!h.healthy) {
        err(`error: unavailable: the daemon is unhealthy: ${h.message || "no reason given"}`);
        return EXIT_FAILURE;
      }
    }),
});

function capabilityList(caps: HypervisorCapabilities): string {
  return [
    caps.supportsLiveMigration && "live-migration",
    caps.supportsSnapshots && "snapshots",
    caps.supportsHotplug && "hot-plug",
    caps.supportsGpuPassthrough && "gpu-passthrough",
    caps.supportsNestedVirtualization && "nested-virtualization",
    caps.uefi && "uefi",
  ]
    .filter(Boolean)
    .join(", ");
}

/** "kvm (hardware acceleration)", or the warning an operator needs when guests are emulated. */
function acceleration(caps: HypervisorCapabilities): string {
  if (caps.hardwareAcceleration) return `${caps.domainType || "kvm"} (hardware acceleration)`;
  return `${caps.domainType || "qemu"} (no hardware acceleration: guests are emulated and run many times slower)`;
}

const filesystems = (storage: StorageInfo[]) => storage.map((f) => `${f.mountPoint} ${bytes(f.usedBytes)} used of ${bytes(f.totalBytes)}`).join("; ") || "-";

const infoCommand = defineCommand({
  meta: { name: "info", description: "Hardware, OS, hypervisor and capabilities of this node" },
  args: withExamples(clientArgs, ["node info", "node info --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const n = await conn.client.getNodeInfo({});
      // What the host could not report (a host without /sys, a Mac in dev mode) is left out of the JSON and shows as –.
      if (args.json) return void out(jsonText(NodeInfoResponseSchema, n, n.absentFields));
      const absent = new Set(n.absentFields);
      const cpu = n.cpu;
      const mem = n.memory;
      const caps = n.capabilities;
      const hv = n.hypervisor;
      const gpus = n.pciDevices.filter((d) => d.isGpu).length;
      const topology = (c: NonNullable<typeof cpu>) =>
        absent.has("cpu.sockets")
          ? `${c.onlineCpus || c.totalThreads} cpus online (topology unknown)`
          : `${c.sockets} socket(s) x ${c.coresPerSocket} core(s) x ${c.threadsPerCore} thread(s), ${c.onlineCpus || c.totalThreads} online`;
      const memory = (m: NonNullable<typeof mem>) =>
        `${bytes(m.totalBytes)} total${absent.has("memory.available_bytes") ? "" : `, ${bytes(m.availableBytes)} available`}`;
      out(
        fields([
          ["node id", n.nodeId || "(not assigned yet)"],
          ["hostname", n.hostname],
          ["management ip", n.managementIp || "-"],
          ["os", [n.os?.name, n.os?.version].filter(Boolean).join(" ") || "-"],
          ["kernel", `${n.os?.kernel ?? "-"} (${n.os?.arch ?? "?"})`],
          ["cpu", cpu ? `${cpu.model} — ${topology(cpu)}` : "-"],
          ["virtualization", cpu && !absent.has("cpu.virtualization") ? yesNo(cpu.virtualization) : NOT_MEASURED],
          ["memory", mem ? memory(mem) : "-"],
          ["numa nodes", absent.has("numa_nodes") ? NOT_MEASURED : String(n.numaNodes)],
          ["filesystems", filesystems(n.storage)],
          ["hypervisor", hv ? `${hv.backend}: ${[hv.name, hv.version].filter(Boolean).join(" ")}${hv.uri ? ` (${hv.uri})` : ""}` : "-"],
          ["acceleration", caps ? acceleration(caps) : "-"],
          ["capabilities", (caps && capabilityList(caps)) || "-"],
          ["max per vm", caps ? `${caps.maxVcpus} vCPUs, ${bytes(caps.maxMemoryBytes)}` : "-"],
          ["disk formats", caps?.diskFormats.map((f) => enumLabel(DiskFormatSchema, f)).join(", ") || "-"],
          ["pci devices", absent.has("pci_devices") ? NOT_MEASURED : `${n.pciDevices.length} (${gpus} GPU)`],
          ["labels", labelsText(n.labels)],
          ["daemon", `${n.daemonVersion}, up ${duration(n.daemonUptimeSeconds)}`],
        ]),
      );
    }),
});

export const nodeCommand = defineCommand({
  meta: { name: "node", description: "This node's hardware and capabilities (e.g. `node info`)" },
  subCommands: { info: infoCommand },
});
