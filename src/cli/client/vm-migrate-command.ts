// `vm migrate`: follows MigrateVM's progress stream, as a redrawn bar on a terminal and as plain
// lines in a pipe. Ctrl-C cancels the call, which cancels the migration: the VM stays here.

import { defineCommand } from "citty";
import { MigrationPhase, type MigrationProgress, MigrationPhaseSchema, MigrationProgressSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { validateMigrationUri } from "../../hypervisor/validation.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { CliFailure, runClient } from "./failures.ts";
import { bytes, enumLabel, jsonText } from "./format.ts";
import { resolveVm, vmLabel } from "./resolve-vm.ts";

/** Conventional exit code of a command interrupted by SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

const BAR_WIDTH = 30;

/** The bytes to move: the daemon's total, or what is done plus what remains. */
const totalOf = (p: MigrationProgress) => (p.dataTotalBytes > 0n ? p.dataTotalBytes : p.dataTransferredBytes + p.dataRemainingBytes);

/** Pure: one progress line, e.g. `[#########.....]  60% transferring 1.2 GiB / 2.0 GiB`. */
export function progressLine(p: MigrationProgress, withBar: boolean): string {
  const pct = Math.max(0, Math.min(100, p.percentComplete));
  const phase = enumLabel(MigrationPhaseSchema, p.phase);
  const total = totalOf(p);
  const amount = total > 0n ? ` ${bytes(p.dataTransferredBytes)} / ${bytes(total)}` : "";
  const text = `${String(pct).padStart(3)}% ${phase}${amount}`;
  if (!withBar) return `migration: ${text}${p.message ? ` — ${p.message}` : ""}`;
  const filled = Math.round((pct / 100) * BAR_WIDTH);
  return `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${text}`;
}

export const migrateCommand = defineCommand({
  meta: { name: "migrate", description: "Move a VM to another host (live by default); Ctrl-C cancels and the VM stays here" },
  args: withExamples(
    {
      vm: { type: "positional", description: "VM name or id", required: true },
      to: { type: "string", description: "libvirt URI of the destination host, e.g. qemu+tls://node-2.example/system", valueHint: "uri", required: true },
      offline: { type: "boolean", description: "Move a stopped VM's definition instead of a live migration" },
      "copy-storage": { type: "boolean", description: "Copy non-shared disk images too" },
      ...clientArgs,
    },
    [
      "vm migrate web-1 --to qemu+tls://node-2.example/system",
      "vm migrate db-1 --to qemu+ssh://root@10.0.0.12/system --offline",
      "vm migrate web-1 --to qemu+tcp://10.0.0.12/system --copy-storage --json",
    ],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out, err }) => {
      if (!args.to) throw new UsageError("--to URI is required, e.g. --to qemu+tls://node-2.example/system");
      try {
        validateMigrationUri(args.to, "--to");
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const ref = await resolveVm(conn.client, args.vm);
      const tty = process.stdout.isTTY === true && !args.json;
      const cancel = new AbortController();
      const onSigint = () => cancel.abort();
      process.on("SIGINT", onSigint);
      let last: MigrationProgress | undefined;
      try {
        const stream = conn.client.migrateVM(
          { vmId: ref.id, targetNodeUri: args.to, live: args.offline !== true, storage: args["copy-storage"] === true },
          { signal: cancel.signal },
        );
        for await (const p of stream) {
          last = p;
          if (args.json) out(jsonText(MigrationProgressSchema, p));
          else if (tty) process.stdout.write(`\r\x1b[2K${progressLine(p, true)}`);
          else out(progressLine(p, false));
        }
      } catch (e) {
        if (!cancel.signal.aborted) throw e;
      } finally {
        process.off("SIGINT", onSigint);
        if (tty && last) process.stdout.write("\n");
      }
      if (cancel.signal.aborted) {
        err(`migration of vm ${vmLabel(ref)} cancelled; it stays on this node`);
        return EXIT_INTERRUPTED;
      }
      if (last?.phase === MigrationPhase.FAILED) {
        throw new CliFailure(`migration of vm ${vmLabel(ref)} failed: ${last.error || last.message || "no reason given"}; it stays on this node`);
      }
      if (last?.phase !== MigrationPhase.COMPLETE) {
        // The stream ended without an outcome (e.g. the daemon shut down): say so, never "done".
        throw new CliFailure(
          `migration of vm ${vmLabel(ref)} ended without completing (last phase: ${last ? enumLabel(MigrationPhaseSchema, last.phase) : "none"})`,
        );
      }
      if (!args.json) out(`vm ${vmLabel(ref)} migrated to ${new URL(args.to).host}`);
    }),
});
