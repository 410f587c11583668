// The VM commands as processes against a real daemon (mock backend): output, --json and exit
// codes, including the failures an operator meets (unknown or ambiguous VM, wrong state).

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { VMState } from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { useDaemonForCli } from "./helpers.ts";

const cliCtx = useDaemonForCli("lq-cli-vm-");
const { dir, run } = cliCtx;

async function createVm(name: string, labels: Record<string, string> = {}, start = false) {
  const vmId = crypto.randomUUID();
  await cliCtx.d.grpc.createVM({
    vmId,
    start,
    spec: { name, cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 }, memory: { sizeMib: 512n }, labels, console: { type: 1, password: "pw" } },
  });
  return vmId;
}

describe("vm create", () => {
  test("creates from a YAML spec with --id and --start, and prints name, id and state", async () => {
    const file = join(dir, "app.yaml");
    writeFileSync(file, "name: app-1\ncpu: {coresPerSocket: 2}\nmemory: {size: 1G}\nlabels: {tier: app}\n");
    const id = crypto.randomUUID();
    const r = await run("vm", "create", "-f", file, "--id", id, "--start");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`created vm app-1 (${id}), running\n`);
    const vm = await cliCtx.d.grpc.getVMStatus({ vmId: id });
    expect(vm.state).toBe(VMState.VM_STATE_RUNNING);
    expect(vm.spec?.memory?.sizeMib).toBe(1024n);
    expect(vm.spec?.cpu?.coresPerSocket).toBe(2);
  });

  test("--json prints the proto JSON response", async () => {
    const file = join(dir, "json.json");
    writeFileSync(file, JSON.stringify({ name: "json-1", memory: { size_mib: 256 } }));
    const r = await run("vm", "create", "-f", file, "--json");
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.created).toBe(true);
    expect(body.vm.name).toBe("json-1");
    expect(body.vm.state).toBe("VM_STATE_STOPPED");
  });

  test("a duplicate name is the daemon's already_exists, exit 1", async () => {
    const file = join(dir, "dup.yaml");
    writeFileSync(file, "name: app-1\nmemory: {size_mib: 256}\n");
    const r = await run("vm", "create", "-f", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: already_exists: a vm named "app-1" already exists on this node/);
  });
});

describe("vm list and get", () => {
  test("a table with id, name, state, vCPUs, memory and labels; filters by label and state", async () => {
    const id = await createVm("list-a", { tier: "db", zone: "b" });
    const all = await run("vm", "list");
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+VCPUS\s+MEMORY\s+LABELS$/);
    const row = lines.find((l) => l.startsWith(id));
    expect(row).toMatch(new RegExp(`^${id}\\s+list-a\\s+stopped\\s+2\\s+512 MiB\\s+tier=db,zone=b$`));

    const byLabel = await run("vm", "list", "--label", "tier=db", "--label", "zone=b");
    expect(byLabel.stdout.trimEnd().split("\n").slice(1).map((l) => l.split(/\s+/)[1])).toEqual(["list-a"]);
    const running = await run("vm", "list", "--state", "running", "--json");
    const names = JSON.parse(running.stdout).vms.map((v: { name: string }) => v.name);
    expect(names).toContain("app-1");
    expect(names).not.toContain("list-a");
    const none = await run("vm", "list", "--label", "tier=nothing");
    expect(none.stdout).toBe("no VMs match\n");
  });

  test("get by name, by id prefix, and with --json", async () => {
    const id = await createVm("get-me", { a: "1" });
    const byName = await run("vm", "get", "get-me");
    expect(byName.code).toBe(0);
    expect(byName.stdout).toContain(`id:           ${id}`);
    expect(byName.stdout).toMatch(/state:\s+stopped \(created\)/);
    const byPrefix = await run("vm", "get", id.slice(0, 8), "--json");
    expect(JSON.parse(byPrefix.stdout).vmId).toBe(id);
  });

  test("an unknown name lists the VMs there are; an unknown id is the daemon's not_found; both exit 1", async () => {
    const byName = await run("vm", "get", "no-such-vm");
    expect(byName.code).toBe(1);
    expect(byName.stderr).toMatch(/^error: not_found: no vm named "no-such-vm" on this node \(vms on this node: .*get-me \(/);
    const id = crypto.randomUUID();
    const byId = await run("vm", "start", id);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toBe(`error: not_found: vm ${id} not found on this node\n`);
    expect(byId.stdout).toBe("");
  });

  test("an ambiguous prefix names every candidate and exits 2", async () => {
    await createVm("twin-1");
    await createVm("twin-2");
    const r = await run("vm", "get", "twin");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: "twin" is ambiguous: it matches twin-1 \(.*\), twin-2 \(.*\); give the full name or id\n$/);
  });
});

describe("power operations, console, hot-plug, delete", () => {
  test("start, pause, resume, reboot, stop --timeout, force-stop print the new state", async () => {
    await createVm("power-1");
    const expectState = async (args: string[], state: string) => {
      const r = await run("vm", ...args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^vm power-1 \\([0-9a-f-]{36}\\): ${state}`));
    };
    await expectState(["start", "power-1"], "running");
    await expectState(["pause", "power-1"], "paused");
    await expectState(["resume", "power-1"], "running");
    await expectState(["reboot", "power-1"], "running");
    await expectState(["stop", "power-1", "--timeout", "10"], "stopped");
    const again = await run("vm", "stop", "power-1");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: failed_precondition: /);
    await expectState(["start", "power-1"], "running");
    await expectState(["force-stop", "power-1"], "stopped");
  });

  test("console prints the address, password and viewer commands", async () => {
    await createVm("console-1", {}, true);
    const r = await run("vm", "console", "console-1");
    expect(r.code).toBe(0);
    const port = /address:\s+127\.0\.0\.1:(\d+)/.exec(r.stdout)?.[1];
    expect(Number(port)).toBeGreaterThanOrEqual(5900);
    expect(r.stdout).toMatch(/password:\s+pw/);
    expect(r.stdout).toContain(`vncviewer 127.0.0.1::${port}`);
    expect(r.stdout).toContain(`remote-viewer vnc://127.0.0.1:${port}`);
  });

  test("attach and detach a disk and a NIC; flag mistakes are usage errors before anything is sent", async () => {
    const id = await createVm("plug-1", {}, true);
    const attach = await run("vm", "attach-disk", "plug-1", "--disk-id", "data1", "--size", "1G", "--format", "raw", "--bus", "scsi");
    expect(attach.stdout).toMatch(/disk data1 attached \(running\)/);
    const nic = await run("vm", "attach-nic", "plug-1", "--nic-id", "eth1", "--bridge", "br0", "--mac", "52:54:00:aa:bb:cc", "--model", "e1000");
    expect(nic.code).toBe(0);
    const vm = await cliCtx.d.grpc.getVMStatus({ vmId: id });
    expect(vm.spec?.disks.map((x) => x.id)).toEqual(["data1"]);
    expect(vm.spec?.nics.map((n) => [n.id, n.mac])).toEqual([["eth1", "52:54:00:aa:bb:cc"]]);
    expect((await run("vm", "detach-disk", "plug-1", "--disk-id", "data1")).code).toBe(0);
    expect((await run("vm", "detach-nic", "plug-1", "--nic-id", "eth1")).code).toBe(0);
    expect((await cliCtx.d.grpc.getVMStatus({ vmId: id })).spec?.disks).toEqual([]);

    const both = await run("vm", "attach-disk", "plug-1", "--disk-id", "x", "--size", "1G", "--path", "/tmp/x.img");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give either --path (an existing image) or --size (a new image)");
    const badMac = await run("vm", "attach-nic", "plug-1", "--nic-id", "eth9", "--network", "default", "--mac", "53:54:00:00:00:01");
    expect(badMac.code).toBe(2);
    expect(badMac.stderr).toContain("nic.mac: must be a unicast address");
    const badBus = await run("vm", "attach-disk", "plug-1", "--disk-id", "y", "--size", "1G", "--bus", "floppy");
    expect(badBus.stderr).toContain("--bus \"floppy\": must be one of virtio, scsi, sata, ide");
  });

  test("delete refuses a running VM unless --force, then it is gone", async () => {
    await createVm("del-1", {}, true);
    const refused = await run("vm", "delete", "del-1");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: failed_precondition: /);
    const forced = await run("vm", "delete", "del-1", "--force", "--delete-disks");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^deleted vm del-1 \(/);
    expect((await run("vm", "get", "del-1")).code).toBe(1);
  });
});

describe("snapshots", () => {
  test("create (named and generated), list with the current one marked, revert, delete", async () => {
    await createVm("snap-1");
    const named = await run("snapshot", "create", "snap-1", "first", "--description", "known good");
    expect(named.stdout).toMatch(/^created snapshot first of vm snap-1 \(/);
    const generated = await run("snapshot", "create", "snap-1", "--json");
    const second = JSON.parse(generated.stdout);
    expect(second.parent).toBe("first");
    const list = await run("snapshot", "list", "snap-1");
    const rows = list.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^NAME\s+CREATED\s+PARENT\s+VM STATE\s+MEMORY\s+DESCRIPTION$/);
    expect(rows[1]).toMatch(/^  first\s+\S+Z\s+-\s+stopped\s+no\s+known good$/);
    expect(rows[2]).toMatch(new RegExp(`^\\* ${second.name}\\s+\\S+\\s+first\\s+stopped`));
    const revert = await run("snapshot", "revert", "snap-1", "first");
    expect(revert.stdout).toMatch(/reverted to snapshot first, stopped/);
    expect((await run("snapshot", "delete", "snap-1", second.name)).code).toBe(0);
    const missing = await run("snapshot", "delete", "snap-1", second.name);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: not_found: /);
  });
});
