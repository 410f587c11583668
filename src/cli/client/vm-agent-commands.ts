// `vm agent ping|exec|cp|shutdown VM ...` and `vm logs VM`: the guest agent from the command
// line. `cp` streams (UploadGuestFile / DownloadGuestFile): a file of any size, 64 KiB at a time.
// A guest path is written VM:/path, like scp.

import { createReadStream, createWriteStream } from "node:fs";
import { defineCommand } from "citty";
import {
  AgentPingResponseSchema,
  ExecuteInGuestResponseSchema,
  GetVMLogsResponseSchema,
  GuestShutdownResponseSchema,
  WriteGuestFileResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { CliFailure, runClient } from "./failures.ts";
import { bytes, fields, jsonText } from "./format.ts";
import { resolveVm, vmLabel } from "./resolve-vm.ts";

const vmArg = { vm: { type: "positional", description: "VM name or id", required: true } } as const;

const pingCommand = defineCommand({
  meta: { name: "ping", description: "Ask the Quantix agent inside the VM whether it answers" },
  args: withExamples({ ...vmArg, ...clientArgs }, ["vm agent ping web-1", "vm agent ping web-1 --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const r = await conn.client.pingAgent({ vmId: ref.id });
      if (args.json) return void out(jsonText(AgentPingResponseSchema, r));
      if (!r.connected) throw new CliFailure(`the agent of vm ${vmLabel(ref)} does not answer: ${r.error}`);
      out(
        fields([
          ["VM", vmLabel(ref)],
          ["AGENT", r.version],
          ["UPTIME", `${r.uptimeSeconds} s`],
        ]),
      );
    }),
});

const execCommand = defineCommand({
  meta: { name: "exec", description: "Run a command inside the VM (through its shell) and print its output; exits with its exit code" },
  args: withExamples(
    {
      ...vmArg,
      command: { type: "positional", description: "The command line, run by the guest's sh -c", required: true },
      timeout: { type: "string", description: "Seconds the command may run (default 60)", valueHint: "seconds" },
      ...clientArgs,
    },
    ["vm agent exec web-1 'uname -r'", "vm agent exec web-1 'df -h' --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out, err }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const timeoutSeconds = args.timeout === undefined ? 0 : Number(args.timeout);
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) throw new CliFailure(`--timeout must be a whole number of seconds, got ${args.timeout}`);
      const r = await conn.client.executeInGuest({ vmId: ref.id, command: args.command, timeoutSeconds });
      if (args.json) {
        out(jsonText(ExecuteInGuestResponseSchema, r));
        return r.success ? 0 : 1;
      }
      if (r.stdout) process.stdout.write(r.stdout);
      if (r.stderr) process.stderr.write(r.stderr);
      if (r.error) err(`error: ${r.error}`);
      if (r.timedOut) err(`the command timed out after ${r.durationMs} ms`);
      return r.exitCode < 0 ? 1 : Math.min(255, r.exitCode);
    }),
});

function guestSide(spec: string): { vm: string; path: string } | undefined {
  const m = /^([^/:][^:]*):(\/.*)$/.exec(spec);
  return m ? { vm: m[1] as string, path: m[2] as string } : undefined;
}

const cpCommand = defineCommand({
  meta: { name: "cp", description: "Copy a file into or out of a VM: vm agent cp ./local VM:/path, or vm agent cp VM:/path ./local" },
  args: withExamples(
    {
      from: { type: "positional", description: "Source: a local file, or VM:/path", required: true },
      to: { type: "positional", description: "Destination: VM:/path, or a local file", required: true },
      mode: { type: "string", description: "Permission bits of a file written in the guest (octal, default 644)", valueHint: "644" },
      ...clientArgs,
    },
    ["vm agent cp ./app.conf web-1:/etc/app.conf", "vm agent cp web-1:/var/log/syslog ./syslog"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const src = guestSide(args.from);
      const dst = guestSide(args.to);
      if ((src === undefined) === (dst === undefined)) throw new CliFailure("exactly one side must be VM:/path (the other a local file)");
      if (dst) {
        const ref = await resolveVm(conn.client, dst.vm);
        const mode = args.mode === undefined ? 0o644 : parseInt(args.mode, 8);
        async function* upload() {
          let first = true;
          for await (const chunk of createReadStream(args.from, { highWaterMark: 64 * 1024 })) {
            yield first ? { vmId: ref.id, path: dst!.path, mode, createParents: true, data: chunk as Buffer } : { data: chunk as Buffer };
            first = false;
          }
          if (first) yield { vmId: ref.id, path: dst!.path, mode, createParents: true, data: new Uint8Array(0) };
        }
        const r = await conn.client.uploadGuestFile(upload());
        if (args.json) return void out(jsonText(WriteGuestFileResponseSchema, r));
        if (!r.success) throw new CliFailure(r.error);
        return void out(`copied ${bytes(r.bytesWritten)} to ${vmLabel(ref)}:${dst.path}`);
      }
      const ref = await resolveVm(conn.client, src!.vm);
      const file = createWriteStream(args.to);
      let total = 0;
      for await (const chunk of conn.client.downloadGuestFile({ vmId: ref.id, path: src!.path })) {
        if (!chunk.success) throw new CliFailure(chunk.error);
        if (!file.write(chunk.data)) await new Promise((r) => file.once("drain", r));
        total += chunk.data.length;
      }
      await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
      out(args.json ? JSON.stringify({ success: true, bytesRead: total }) : `copied ${bytes(total)} from ${vmLabel(ref)}:${src!.path}`);
    }),
});

const shutdownCommand = defineCommand({
  meta: { name: "shutdown", description: "Ask the agent inside the VM to power it off (or reboot it with --reboot)" },
  args: withExamples({ ...vmArg, reboot: { type: "boolean", description: "Reboot instead of powering off" }, ...clientArgs }, [
    "vm agent shutdown web-1",
    "vm agent shutdown web-1 --reboot",
  ]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const r = await conn.client.guestShutdown({ vmId: ref.id, reboot: args.reboot === true });
      if (args.json) return void out(jsonText(GuestShutdownResponseSchema, r));
      if (!r.accepted) throw new CliFailure(`the agent of vm ${vmLabel(ref)} refused: ${r.error}`);
      out(`vm ${vmLabel(ref)}: ${args.reboot ? "reboot" : "power-off"} requested through its agent`);
    }),
});

export const agentCommand = defineCommand({
  meta: { name: "agent", description: "The Quantix agent inside a VM (e.g. `vm agent exec web-1 'uname -r'`)" },
  subCommands: { ping: pingCommand, exec: execCommand, cp: cpCommand, shutdown: shutdownCommand },
});

export const logsCommand = defineCommand({
  meta: { name: "logs", description: "The tail of a VM's QEMU log on this node" },
  args: withExamples({ ...vmArg, lines: { type: "string", description: "How many lines (default 100, at most 1000)", valueHint: "n" }, ...clientArgs }, [
    "vm logs web-1",
    "vm logs web-1 --lines 500 --json",
  ]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const ref = await resolveVm(conn.client, args.vm);
      const r = await conn.client.getVMLogs({ vmId: ref.id, lines: args.lines === undefined ? 0 : Number(args.lines) });
      if (args.json) return void out(jsonText(GetVMLogsResponseSchema, r));
      out(r.qemuLog === "" ? `(no QEMU log for vm ${vmLabel(ref)} at ${r.logPath})` : r.qemuLog);
    }),
});
