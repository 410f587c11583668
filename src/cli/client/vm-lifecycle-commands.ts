// `vm create` from a spec file, the power operations and `vm delete`.

import { defineCommand } from "citty";
import {
  CreateVMOnNodeResponseSchema,
  DeleteVMResponseSchema,
  type VMOperationResponse,
  VMStatusResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { validateVmId } from "../../hypervisor/validation.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { type ClientContext, runClient } from "./failures.ts";
import { jsonText, parseDurationMs } from "./format.ts";
import { resolveVm, type VmRef, vmLabel } from "./resolve-vm.ts";
import { readSpecFile } from "./spec-file.ts";
import { stateOf } from "./vm-state.ts";

const vmArg = { vm: { type: "positional", description: "VM name or id (an unambiguous prefix of either works)", required: true } } as const;

/** The VM's id: the file's vm_id, --id, or a new one; a file and a flag that disagree are bad usage. */
export function createVmId(fromFile: string, flag: string | undefined): string {
  const given = flag?.toLowerCase();
  if (given !== undefined) {
    try {
      validateVmId(given, "--id");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (fromFile !== "" && fromFile !== given) throw new UsageError(`--id ${given} differs from the file's vm_id ${fromFile}; give one of them`);
  }
  return given ?? (fromFile || crypto.randomUUID());
}

const createCommand = defineCommand({
  meta: { name: "create", description: "Create a VM from a YAML or JSON spec (checked here with the API's rules before it is sent)" },
  args: withExamples(
    {
      file: {
        type: "string",
        alias: "f",
        description: "VM spec file (.yaml, .yml or .json); see deploy/vm-spec.example.yaml",
        valueHint: "path",
        required: true,
      },
      id: { type: "string", description: "VM id (a lowercase UUID); default: the file's vm_id, or a new one", valueHint: "uuid" },
      start: { type: "boolean", description: "Start the VM once it is created" },
      ...clientArgs,
    },
    ["vm create -f deploy/vm-spec.example.yaml --start", "vm create -f web.json --id 0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      if (!args.file) throw new UsageError("vm create needs -f FILE, a VM spec (see deploy/vm-spec.example.yaml)");
      const req = await readSpecFile(args.file);
      const vmId = createVmId(req.vmId, args.id);
      const res = await conn.client.createVM({ ...req, vmId, start: args.start === true });
      if (args.json) return void out(jsonText(CreateVMOnNodeResponseSchema, res));
      const vm = res.vm;
      const name = vm?.name ?? req.name;
      const state = vm ? `, ${stateOf(vm)}` : "";
      out(res.created ? `created vm ${name} (${res.vmId})${state}` : `vm ${name} (${res.vmId}) already exists with this spec${state}`);
    }),
});

type PowerCall = (ctx: ClientContext, ref: VmRef, args: Record<string, unknown>) => Promise<VMOperationResponse>;

interface PowerExtras {
  args?: Record<string, object>;
  examples?: string[];
  /** Reads the extra flags before anything is sent, so bad usage never waits on the daemon. */
  check?: (args: Record<string, unknown>) => void;
}

function powerCommand(name: string, description: string, call: PowerCall, extras: PowerExtras = {}) {
  const { args: extraArgs = {}, examples = [], check } = extras;
  return defineCommand({
    meta: { name, description },
    args: withExamples({ ...vmArg, ...extraArgs, ...clientArgs } as typeof vmArg & typeof clientArgs, [`vm ${name} web-1`, ...examples]),
    run: ({ args }) =>
      runClient(args, async (ctx) => {
        check?.(args);
        const ref = await resolveVm(ctx.conn.client, args.vm);
        const { vm } = await call(ctx, ref, args);
        if (!vm) throw new Error(`the daemon answered ${name} without the VM's status`);
        if (args.json) return void ctx.out(jsonText(VMStatusResponseSchema, vm));
        ctx.out(`vm ${vmLabel(ref, vm)}: ${stateOf(vm)}${vm.stateReason ? ` (${vm.stateReason})` : ""}`);
      }),
  });
}

/** The stop timeout: seconds, or a duration like 90s or 2m. */
export function stopTimeoutSeconds(text: unknown): number {
  if (text === undefined) return 0;
  const ms = parseDurationMs(String(text));
  if (ms === undefined || ms < 1000 || ms % 1000 !== 0) {
    throw new UsageError(`--timeout ${JSON.stringify(text)}: give whole seconds, e.g. 30 or 2m`);
  }
  return ms / 1000;
}

const powerCommands = {
  start: powerCommand("start", "Boot a stopped VM (a running one stays as it is)", ({ conn }, ref) => conn.client.startVM({ vmId: ref.id })),
  stop: powerCommand(
    "stop",
    "Ask the guest to shut down (ACPI) and wait for it",
    ({ conn }, ref, args) => {
      const timeoutSeconds = stopTimeoutSeconds(args.timeout);
      // The call lasts as long as the guest takes, plus a margin for the daemon itself.
      return conn.client.stopVM({ vmId: ref.id, timeoutSeconds }, { timeoutMs: ((timeoutSeconds || 3600) + 30) * 1000 });
    },
    {
      args: { timeout: { type: "string", description: "How long the guest may take (seconds or 2m; default: the node's 60 s)", valueHint: "seconds" } },
      examples: ["vm stop web-1 --timeout 2m"],
      check: (args) => void stopTimeoutSeconds(args.timeout),
    },
  ),
  "force-stop": powerCommand("force-stop", "Pull the plug: the guest gets no chance to flush its disks", ({ conn }, ref) =>
    conn.client.forceStopVM({ vmId: ref.id }),
  ),
  reboot: powerCommand("reboot", "Reboot the guest", ({ conn }, ref) => conn.client.rebootVM({ vmId: ref.id })),
  pause: powerCommand("pause", "Freeze the guest's vCPUs (memory stays allocated)", ({ conn }, ref) => conn.client.pauseVM({ vmId: ref.id })),
  resume: powerCommand("resume", "Let a paused guest run again", ({ conn }, ref) => conn.client.resumeVM({ vmId: ref.id })),
};

const deleteCommand = defineCommand({
  meta: { name: "delete", description: "Delete a VM's definition (and with --delete-disks its images inside the storage path)" },
  args: withExamples(
    {
      ...vmArg,
      "delete-disks": { type: "boolean", description: "Also delete its disk images (only those inside the node's storage path)" },
      force: { type: "boolean", description: "Force-stop a running VM first instead of refusing" },
      ...clientArgs,
    },
    ["vm delete web-1", "vm delete web-1 --force --delete-disks"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const res = await conn.client.deleteVM({ vmId: ref.id, deleteDisks: args["delete-disks"] === true, force: args.force === true });
      if (args.json) return void out(jsonText(DeleteVMResponseSchema, res));
      out(`deleted vm ${vmLabel(ref)}`);
      for (const disk of res.deletedDisks) out(`  deleted disk image ${disk}`);
    }),
});

export const vmLifecycleCommands = { create: createCommand, ...powerCommands, delete: deleteCommand };
