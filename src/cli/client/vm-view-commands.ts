// `vm list` and `vm get`: what is on this node, as tables for people and proto JSON for scripts.

import { defineCommand } from "citty";
import {
  BootDeviceSchema,
  type ConsoleSpec,
  CpuModeSchema,
  CpuMode,
  DiskBusSchema,
  DiskFormatSchema,
  FirmwareSchema,
  ListVMsOnNodeResponseSchema,
  NicModelSchema,
  PowerStateSchema,
  type VMStatusResponse,
  VMStatusResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, repeatedFlag, withExamples } from "./client-args.ts";
import { runClient } from "./failures.ts";
import { bytes, enumChoices, enumLabel, fields, jsonText, labelsText, parseEnum, percent, table, when } from "./format.ts";
import { resolveVm } from "./resolve-vm.ts";
import { stateOf, vcpus } from "./vm-state.ts";

const GIB = 1024n ** 3n;
const MIB = 1024n ** 2n;

const memoryOf = (vm: VMStatusResponse) => bytes((vm.spec?.memoryMib ?? 0n) * MIB);

export function vmTable(vms: VMStatusResponse[]): string {
  return table(
    ["ID", "NAME", "STATE", "VCPUS", "MEMORY", "LABELS"],
    vms.map((vm) => [vm.vmId, vm.name, stateOf(vm), String(vcpus(vm)), memoryOf(vm), labelsText(vm.labels)]),
  );
}

/** `--label a=b` pairs; a key without `=` is a usage error. */
export function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`--label ${JSON.stringify(v)}: give key=value, e.g. --label tier=web`);
    labels[v.slice(0, i)] = v.slice(i + 1);
  }
  return labels;
}

/** `--state running` -> PowerState.RUNNING. */
export function parseStates(values: string[]): number[] {
  return values.map((v) => {
    const state = parseEnum(PowerStateSchema, v);
    if (state === undefined) throw new UsageError(`--state ${JSON.stringify(v)}: must be one of ${enumChoices(PowerStateSchema).join(", ")}`);
    return state;
  });
}

const listCommand = defineCommand({
  meta: { name: "list", description: "List the VMs on this node: id, name, state, vCPUs, memory, labels" },
  args: withExamples(
    {
      label: { type: "string", description: "Only VMs with this label (key=value; repeat or comma-separate for several)", valueHint: "key=value" },
      state: { type: "string", description: `Only VMs in this power state (repeatable): ${enumChoices(PowerStateSchema).join(", ")}`, valueHint: "state" },
      ...clientArgs,
    },
    ["vm list", "vm list --state running --label tier=web", "vm list --json | jq -r '.vms[].name'"],
  ),
  run: ({ args, rawArgs }) =>
    runClient(args, async ({ conn, out }) => {
      const labelSelector = parseLabels(repeatedFlag(rawArgs, "label"));
      const states = parseStates(repeatedFlag(rawArgs, "state"));
      // page_size 0: every VM in one answer.
      const res = await conn.client.listVMs({ labelSelector, states });
      if (args.json) return void out(jsonText(ListVMsOnNodeResponseSchema, res));
      const filtered = Object.keys(labelSelector).length > 0 || states.length > 0;
      if (res.vms.length === 0) return void out(filtered ? "no VMs match" : "no VMs on this node");
      out(vmTable(res.vms));
    }),
});

function consoleText(c: ConsoleSpec | undefined): string {
  if (!c) return "-";
  const at = (port: number) => `${c.listen || "node's console address"}, port ${port || "chosen at start; vm console shows it"}`;
  if (c.vncEnabled) return `vnc (${at(c.vncPort)})`;
  if (c.spiceEnabled) return `spice (${at(c.spicePort)})`;
  return "none";
}

const sizeText = (gib: bigint) => (gib > 0n ? bytes(gib * GIB) : "-");

export function vmDetails(vm: VMStatusResponse): string {
  const s = vm.spec;
  // host-passthrough, as libvirt and the spec file spell it.
  const mode = s && s.cpuMode !== CpuMode.UNSPECIFIED ? enumLabel(CpuModeSchema, s.cpuMode).replace(/_/g, "-") : "";
  const cpuMode = mode ? `, ${mode}${s?.cpuModel ? ` ${s.cpuModel}` : ""}` : "";
  const usage = vm.resourceUsage;
  const parts: string[] = [
    fields([
      ["id", vm.vmId],
      ["name", vm.name],
      ["state", `${stateOf(vm)}${vm.stateReason ? ` (${vm.stateReason})` : ""}`],
      ["vcpus", s ? `${vcpus(vm)} (${s.cpuSockets} socket x ${s.cpuCores} core x ${s.cpuThreadsPerCore} thread${cpuMode})` : "-"],
      ["memory", `${memoryOf(vm)}${s?.memoryHugepages ? " (hugepages)" : ""}`],
      ["firmware", s ? enumLabel(FirmwareSchema, s.firmware) : "-"],
      ["guest os", s?.guestOs || "-"],
      ["boot order", s?.bootOrder.map((b) => enumLabel(BootDeviceSchema, b)).join(", ") || "-"],
      ["console", consoleText(s?.console)],
      ["labels", labelsText(vm.labels)],
      ["description", s?.description || "-"],
      ["created", when(vm.createdAt)],
      ["started", when(vm.startedAt)],
      ["snapshots", `${vm.snapshotCount}${vm.currentSnapshot ? ` (current: ${vm.currentSnapshot})` : ""}`],
      ["cpu usage", usage ? percent(usage.cpuUsagePercent) : "-"],
      ["memory used", usage ? `${bytes(usage.memoryUsedBytes)} of ${bytes(usage.memoryTotalBytes)}` : "-"],
    ]),
  ];
  if (s?.disks.length) {
    parts.push(
      "\nDISKS\n" +
        table(
          ["ID", "TARGET", "BUS", "FORMAT", "SIZE", "BOOT", "FLAGS", "PATH"],
          s.disks.map((d) => [
            d.id,
            d.target || "-",
            enumLabel(DiskBusSchema, d.bus),
            enumLabel(DiskFormatSchema, d.format),
            sizeText(d.sizeGib),
            d.bootable ? "yes" : "-",
            [d.readonly && "ro", d.iopsLimit > 0n && `${d.iopsLimit} iops`, d.throughputMbps > 0n && `${d.throughputMbps} MB/s`, d.poolId && `pool ${d.poolId}`]
              .filter(Boolean)
              .join(", ") || "-",
            d.resolvedPath || d.path || "-",
          ]),
        ),
    );
  }
  if (s?.cdroms.length) {
    parts.push(
      "\nCD-ROMS\n" +
        table(
          ["ID", "TARGET", "BOOT", "MEDIUM"],
          s.cdroms.map((c) => [c.id, c.target || "-", c.bootable ? "yes" : "-", c.resolvedPath || c.isoPath || "(empty)"]),
        ),
    );
  }
  if (s?.nics.length) {
    parts.push(
      "\nNICS\n" +
        table(
          ["ID", "MAC", "MODEL", "ATTACHMENT", "BANDWIDTH"],
          s.nics.map((n) => [
            n.id,
            n.macAddress || "-",
            enumLabel(NicModelSchema, n.model),
            n.bridge ? `bridge ${n.bridge}` : n.network ? `network ${n.network}` : "-",
            n.bandwidthMbps > 0n ? `${n.bandwidthMbps} Mbit/s` : "-",
          ]),
        ),
    );
  }
  if (s?.hostDevices.length) {
    parts.push(
      "\nHOST DEVICES\n" +
        table(
          ["PCI ADDRESS", "ROM BAR"],
          s.hostDevices.map((h) => [h.pciAddress, h.disableRomBar ? "hidden" : "shown"]),
        ),
    );
  }
  return parts.join("");
}

const getCommand = defineCommand({
  meta: { name: "get", description: "Show one VM: state, spec, disks, CD-ROMs, NICs, console and usage" },
  args: withExamples({ vm: { type: "positional", description: "VM name or id (an unambiguous prefix of either works)", required: true }, ...clientArgs }, [
    "vm get web-1",
    "vm get 0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11 --json",
  ]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const vm = await conn.client.getVMStatus({ vmId: ref.id });
      out(args.json ? jsonText(VMStatusResponseSchema, vm) : vmDetails(vm));
    }),
});

export const vmViewCommands = { list: listCommand, get: getCommand };
