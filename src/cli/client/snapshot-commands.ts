// `snapshot list|create|revert|delete VM [NAME]`.

import { defineCommand } from "citty";
import {
  DeleteSnapshotResponseSchema,
  ListSnapshotsResponseSchema,
  PowerState,
  PowerStateSchema,
  SnapshotResponseSchema,
  VMStatusResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { CliFailure, runClient } from "./failures.ts";
import { enumLabel, jsonText, table, when } from "./format.ts";
import { resolveVm, vmLabel } from "./resolve-vm.ts";
import { stateOf } from "./vm-state.ts";

const vmArg = { vm: { type: "positional", description: "VM name or id", required: true } } as const;
const snapshotArg = {
  snapshot: { type: "positional", description: "Snapshot name (its id within the VM, as snapshot list shows it)", required: true },
} as const;

const listCommand = defineCommand({
  meta: { name: "list", description: "List a VM's snapshots with their parents (* marks the current one)" },
  args: withExamples({ ...vmArg, ...clientArgs }, ["snapshot list web-1", "snapshot list web-1 --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const res = await conn.client.listSnapshots({ vmId: ref.id });
      if (args.json) return void out(jsonText(ListSnapshotsResponseSchema, res));
      if (res.snapshots.length === 0) return void out(`vm ${vmLabel(ref)} has no snapshots`);
      out(
        table(
          ["NAME", "CREATED", "PARENT", "VM STATE", "MEMORY", "DESCRIPTION"],
          res.snapshots.map((s) => [
            `${s.current ? "* " : "  "}${s.snapshotId}`,
            when(s.createdAt),
            s.parentId || "-",
            enumLabel(PowerStateSchema, s.vmState),
            s.hasMemory ? "yes" : "no",
            s.description || "-",
          ]),
        ),
      );
    }),
});

const createCommand = defineCommand({
  meta: {
    name: "create",
    description: "Take a snapshot of a VM (the name is generated when left out); a running VM's holds its memory too",
  },
  args: withExamples(
    {
      ...vmArg,
      name: { type: "positional", description: "Snapshot name (default: generated)", required: false },
      description: { type: "string", description: "What the snapshot is for", valueHint: "text" },
      quiesce: { type: "boolean", description: "Ask the guest agent to freeze filesystems first (crash-consistent when none answers)" },
      ...clientArgs,
    },
    ["snapshot create web-1 before-upgrade", "snapshot create web-1 --quiesce --description 'known good'"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const snap = await conn.client.createSnapshot({
        vmId: ref.id,
        name: args.name ?? "",
        description: args.description ?? "",
        quiesce: args.quiesce === true,
      });
      if (args.json) return void out(jsonText(SnapshotResponseSchema, snap));
      const quiesce = args.quiesce ? (snap.quiesced ? ", filesystems quiesced" : ", not quiesced: no guest agent answered") : "";
      out(`created snapshot ${snap.snapshotId} of vm ${vmLabel(ref)}${snap.parentId ? ` (parent ${snap.parentId})` : ""}${quiesce}`);
    }),
});

/** States the guest is up in: reverting to a snapshot without memory ends it. */
const UP = new Set([PowerState.RUNNING, PowerState.PAUSED, PowerState.SUSPENDED]);

const revertCommand = defineCommand({
  meta: {
    name: "revert",
    description:
      "Return a VM to a snapshot: its disks, and its memory when the snapshot has it (the VM then runs from that moment). " +
      "A snapshot without memory powers the VM off, so an up VM needs --force, as vm delete does",
  },
  args: withExamples(
    {
      ...vmArg,
      ...snapshotArg,
      force: { type: "boolean", description: "Revert even when it powers off the running VM (a snapshot taken while it was stopped has no memory)" },
      ...clientArgs,
    },
    ["snapshot revert web-1 before-upgrade", "snapshot revert web-1 fresh-install --force", "snapshot revert web-1 before-upgrade --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      if (args.force !== true) {
        // The same rule as vm delete: what would end a running guest is refused without --force.
        const [status, { snapshots }] = await Promise.all([conn.client.getVMStatus({ vmId: ref.id }), conn.client.listSnapshots({ vmId: ref.id })]);
        const snap = snapshots.find((s) => s.snapshotId === args.snapshot);
        if (snap !== undefined && !snap.hasMemory && UP.has(status.state)) {
          throw new CliFailure(
            `vm ${vmLabel(ref, status)} is ${stateOf(status)} and snapshot ${args.snapshot} holds no memory (it was taken while the vm was ` +
              `${enumLabel(PowerStateSchema, snap.vmState)}): reverting powers the vm off. Stop it first, or pass --force`,
          );
        }
      }
      const { vm } = await conn.client.revertSnapshot({ vmId: ref.id, snapshotId: args.snapshot });
      if (!vm) throw new Error("the daemon answered RevertSnapshot without the VM's status");
      if (args.json) return void out(jsonText(VMStatusResponseSchema, vm));
      out(`vm ${vmLabel(ref)} reverted to snapshot ${args.snapshot}, ${stateOf(vm)}`);
    }),
});

const deleteCommand = defineCommand({
  meta: { name: "delete", description: "Delete a snapshot (its children keep their data)" },
  args: withExamples({ ...vmArg, ...snapshotArg, ...clientArgs }, ["snapshot delete web-1 before-upgrade", "snapshot delete web-1 before-upgrade --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const res = await conn.client.deleteSnapshot({ vmId: ref.id, snapshotId: args.snapshot });
      if (args.json) return void out(jsonText(DeleteSnapshotResponseSchema, res));
      out(`deleted snapshot ${res.snapshotId || args.snapshot} of vm ${vmLabel(ref)}`);
    }),
});

export const snapshotCommand = defineCommand({
  meta: { name: "snapshot", description: "VM snapshots (e.g. `snapshot create web-1 before-upgrade`)" },
  subCommands: { list: listCommand, create: createCommand, revert: revertCommand, delete: deleteCommand },
});
