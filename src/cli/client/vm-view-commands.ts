// `vm list` and `vm get`: what is on this node, as tables for people and proto JSON for scripts.

import { defineCommand } from "citty";
import {
  ConsoleTypeSchema,
  CpuModeSchema,
  DiskBusSchema,
  DiskDeviceSchema,
  DiskFormatSchema,
  FirmwareSchema,
  ListVMsResponseSchema,
  NicModelSchema,
  type VMStatus,
  VMStateSchema,
  VMStatusSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, repeatedFlag, withExamples } from "./client-args.ts";
import { runClient } from "./failures.ts";
import { bytes, enumChoices, enumLabel, fields, jsonText, labelsText, parseEnum, percent, table, when } from "./format.ts";
import { resolveVm } from "./resolve-vm.ts";

export const vcpus = (vm: VMStatus): number => {
  const c = vm.spec?.cpu;
  return c ? c.sockets * c.coresPerSocket * c.threadsPerCore : 0;
};

export const stateOf = (vm: VMStatus): string => enumLabel(VMStateSchema, vm.state);

export function vmTable(vms: VMStatus[]): string {
  return table(
    ["ID", "NAME", "STATE", "VCPUS", "MEMORY", "LABELS"],
    vms.map((vm) => [
      vm.vmId,
      vm.name,
      stateOf(vm),
      String(vcpus(vm)),
      bytes((vm.spec?.memory?.sizeMib ?? 0n) * 1024n * 1024n),
      labelsText(vm.spec?.labels ?? {}),
    ]),
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

export function parseStates(values: string[]): number[] {
  return values.map((v) => {
    const state = parseEnum(VMStateSchema, v);
    if (state === undefined) throw new UsageError(`--state ${JSON.stringify(v)}: must be one of ${enumChoices(VMStateSchema).join(", ")}`);
    return state;
  });
}

const listCommand = defineCommand({
  meta: { name: "list", description: "List the VMs on this node: id, name, state, vCPUs, memory, labels" },
  args: withExamples(
    {
      label: { type: "string", description: "Only VMs with this label (key=value; repeat or comma-separate for several)", valueHint: "key=value" },
      state: { type: "string", description: `Only VMs in this state (repeatable): ${enumChoices(VMStateSchema).join(", ")}`, valueHint: "state" },
      ...clientArgs,
    },
    ["vm list", "vm list --state running --label tier=web", "vm list --json | jq -r '.vms[].name'"],
  ),
  run: ({ args, rawArgs }) =>
    runClient(args, async ({ conn, out }) => {
      const labelSelector = parseLabels(repeatedFlag(rawArgs, "label"));
      const states = parseStates(repeatedFlag(rawArgs, "state"));
      const res = await conn.client.listVMs({ labelSelector, states });
      if (args.json) return void out(jsonText(ListVMsResponseSchema, res));
      const filtered = Object.keys(labelSelector).length > 0 || states.length > 0;
      if (res.vms.length === 0) return void out(filtered ? "no VMs match" : "no VMs on this node");
      out(vmTable(res.vms));
    }),
});

export function vmDetails(vm: VMStatus): string {
  const s = vm.spec;
  const cpu = s?.cpu;
  const parts: string[] = [
    fields([
      ["id", vm.vmId],
      ["name", vm.name],
      ["state", `${stateOf(vm)}${vm.stateReason ? ` (${vm.stateReason})` : ""}`],
      ["vcpus", cpu ? `${vcpus(vm)} (${cpu.sockets} socket x ${cpu.coresPerSocket} core x ${cpu.threadsPerCore} thread, ${enumLabel(CpuModeSchema, cpu.mode)}${cpu.model ? ` ${cpu.model}` : ""})` : "-"],
      ["memory", `${bytes((s?.memory?.sizeMib ?? 0n) * 1024n * 1024n)}${s?.memory?.hugepages ? " (hugepages)" : ""}`],
      ["firmware", s ? enumLabel(FirmwareSchema, s.firmware) : "-"],
      ["console", s?.console ? enumLabel(ConsoleTypeSchema, s.console.type) : "-"],
      ["labels", labelsText(s?.labels ?? {})],
      ["description", s?.description || "-"],
      ["created", when(vm.createdAt)],
      ["started", when(vm.startedAt)],
      ["snapshots", `${vm.snapshotCount}${vm.currentSnapshot ? ` (current: ${vm.currentSnapshot})` : ""}`],
      ["cpu usage", vm.usage ? percent(vm.usage.cpuUsagePercent) : "-"],
      ["memory used", vm.usage ? `${bytes(vm.usage.memoryUsedBytes)} of ${bytes(vm.usage.memoryTotalBytes)}` : "-"],
    ]),
  ];
  if (s?.disks.length) {
    parts.push(
      "\nDISKS\n" +
        table(
          ["ID", "TARGET", "DEVICE", "BUS", "BOOT", "SOURCE"],
          s.disks.map((d) => [
            d.id,
            d.target || "-",
            `${enumLabel(DiskDeviceSchema, d.device)}${d.readonly ? " (ro)" : ""}`,
            enumLabel(DiskBusSchema, d.bus),
            d.bootOrder ? String(d.bootOrder) : "-",
            d.resolvedPath ||
              (d.source.case === "path"
                ? d.source.value
                : d.source.case === "newImage"
                  ? `new ${enumLabel(DiskFormatSchema, d.source.value.format)} ${bytes(d.source.value.sizeBytes)}`
                  : "-"),
          ]),
        ),
    );
  }
  if (s?.nics.length) {
    parts.push(
      "\nNICS\n" +
        table(
          ["ID", "MAC", "MODEL", "ATTACHMENT"],
          s.nics.map((n) => [
            n.id,
            n.mac || "-",
            enumLabel(NicModelSchema, n.model),
            n.attachment.case ? `${n.attachment.case} ${n.attachment.value}` : "-",
          ]),
        ),
    );
  }
  if (s?.hostDevices.length) {
    parts.push("\nHOST DEVICES\n" + table(["PCI ADDRESS", "ROM BAR"], s.hostDevices.map((h) => [h.pciAddress, h.disableRomBar ? "hidden" : "shown"])));
  }
  return parts.join("");
}

const getCommand = defineCommand({
  meta: { name: "get", description: "Show one VM: state, spec, devices and usage" },
  args: withExamples(
    { vm: { type: "positional", description: "VM name or id (an unambiguous prefix of either works)", required: true }, ...clientArgs },
    ["vm get web-1", "vm get 0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11 --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const vm = await conn.client.getVMStatus({ vmId: ref.id });
      out(args.json ? jsonText(VMStatusSchema, vm) : vmDetails(vm));
    }),
});

export const vmViewCommands = { list: listCommand, get: getCommand };
