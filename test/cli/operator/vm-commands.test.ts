// The VM commands as processes against a real daemon (mock backend): output, --json and exit
// codes, including the failures an operator meets (unknown or ambiguous VM, wrong state).

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiskBus, DiskFormat, PowerState } from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { useDaemonForCli } from "./helpers.ts";

const cliCtx = useDaemonForCli("lq-cli-vm-");
const { dir, run } = cliCtx;

interface VmOptions {
  labels?: Record<string, string>;
  start?: boolean;
  cdrom?: boolean;
}

async function createVm(name: string, { labels = {}, start = false, cdrom = false }: VmOptions = {}) {
  const vmId = crypto.randomUUID();
  await cliCtx.d.grpc.createVM({
    vmId,
    name,
    labels,
    start,
    spec: {
      cpuSockets: 1,
      cpuCores: 2,
      cpuThreadsPerCore: 1,
      memoryMib: 512n,
      console: { vncEnabled: true, vncPassword: "pw" },
      disks: [{ id: "root", sizeGib: 1n }],
      cdroms: cdrom ? [{ id: "installer" }] : [],
    },
  });
  return vmId;
}

/** An ISO the daemon can find: a file in the node's ISO folder (storage.iso_images). */
function isoFile(name: string): string {
  const isoDir = cliCtx.d.config.storage.isoImages;
  mkdirSync(isoDir, { recursive: true });
  const path = join(isoDir, name);
  writeFileSync(path, "not really an ISO");
  return path;
}

describe("vm create", () => {
  test("creates from a YAML spec with --id and --start, and prints name, id and state", async () => {
    const file = join(dir, "app.yaml");
    writeFileSync(file, "name: app-1\ncpu_cores: 2\nmemory: 1G\nlabels: {tier: app}\ndisks: [{id: root, size: 1500M, bus: sata}]\n");
    const id = crypto.randomUUID();
    const r = await run("vm", "create", "-f", file, "--id", id, "--start");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`created vm app-1 (${id}), running\n`);
    const vm = await cliCtx.d.grpc.getVMStatus({ vmId: id });
    expect(vm.state).toBe(PowerState.RUNNING);
    expect(vm.labels).toEqual({ tier: "app" });
    expect(vm.spec).toMatchObject({ memoryMib: 1024n, cpuCores: 2 });
    // 1500M is rounded up to whole GiB.
    expect(vm.spec?.disks[0]).toMatchObject({ id: "root", sizeGib: 2n, bus: DiskBus.SATA, format: DiskFormat.QCOW2 });
  });

  test("the file's vm_id is used; --json prints the proto JSON response", async () => {
    const id = crypto.randomUUID();
    const file = join(dir, "json.json");
    writeFileSync(file, JSON.stringify({ vmId: id, name: "json-1", memoryMib: 256 }));
    const r = await run("vm", "create", "-f", file, "--json");
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ vmId: id, created: true, vm: { name: "json-1", state: "POWER_STATE_STOPPED" } });

    const clash = await run("vm", "create", "-f", file, "--id", crypto.randomUUID());
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(`differs from the file's vm_id ${id}`);
  });

  test("the same file again is an answer, not an error: the VM already exists with this spec", async () => {
    const file = join(dir, "again.yaml");
    const id = crypto.randomUUID();
    writeFileSync(file, `vm_id: ${id}\nname: again-1\nmemory: 256M\n`);
    expect((await run("vm", "create", "-f", file)).code).toBe(0);
    const again = await run("vm", "create", "-f", file);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`vm again-1 (${id}) already exists with this spec, stopped\n`);
  });

  test("a duplicate name is the daemon's already_exists, exit 1", async () => {
    const file = join(dir, "dup.yaml");
    writeFileSync(file, "name: app-1\nmemory_mib: 256\n");
    const r = await run("vm", "create", "-f", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: already_exists: .*app-1/);
  });
});

describe("vm list and get", () => {
  test("a table with id, name, state, vCPUs, memory and labels; filters by label and power state", async () => {
    const id = await createVm("list-a", { labels: { tier: "db", zone: "b" } });
    const all = await run("vm", "list");
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+VCPUS\s+MEMORY\s+LABELS$/);
    const row = lines.find((l) => l.startsWith(id));
    expect(row).toMatch(new RegExp(`^${id}\\s+list-a\\s+stopped\\s+2\\s+512 MiB\\s+tier=db,zone=b$`));

    const byLabel = await run("vm", "list", "--label", "tier=db", "--label", "zone=b");
    expect(
      byLabel.stdout
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(["list-a"]);
    const running = await run("vm", "list", "--state", "running", "--json");
    const vms = JSON.parse(running.stdout).vms as { name: string; state: string }[];
    expect(vms.map((v) => v.name)).toContain("app-1");
    expect(vms.map((v) => v.name)).not.toContain("list-a");
    expect(new Set(vms.map((v) => v.state))).toEqual(new Set(["POWER_STATE_RUNNING"]));
    const none = await run("vm", "list", "--label", "tier=nothing");
    expect(none.stdout).toBe("no VMs match\n");
  });

  test("get by name shows the spec and its devices; by id prefix; with --json", async () => {
    const id = await createVm("get-me", { labels: { a: "1" }, cdrom: true });
    const byName = await run("vm", "get", "get-me");
    expect(byName.code).toBe(0);
    const out = byName.stdout;
    expect(out).toContain(`id:           ${id}`);
    expect(out).toMatch(/^state:\s+stopped/m);
    expect(out).toMatch(/^vcpus:\s+2 \(1 socket x 2 core x 1 thread\)$/m);
    expect(out).toMatch(/^memory:\s+512 MiB$/m);
    expect(out).toMatch(/^guest os:\s+/m);
    expect(out).toMatch(/^console:\s+vnc \(/m);
    expect(out).toMatch(/^labels:\s+a=1$/m);
    expect(out).toMatch(/^DISKS\nID\s+TARGET\s+BUS\s+FORMAT\s+SIZE\s+BOOT\s+FLAGS\s+PATH\nroot\s+\S+\s+virtio\s+qcow2\s+1\.0 GiB\s+yes\s+-\s+\//m);
    // The first CD-ROM is in the boot order after the disks: the node's default.
    expect(out).toMatch(/^boot order:\s+disk, cdrom$/m);
    expect(out).toMatch(/^CD-ROMS\nID\s+TARGET\s+BOOT\s+MEDIUM\ninstaller\s+sd[a-z]\s+yes\s+\(empty\)$/m);
    expect(out).toMatch(/^NICS\nID\s+MAC\s+MODEL\s+ATTACHMENT\s+BANDWIDTH\n\S+\s+52:54:00(:[0-9a-f]{2}){3}\s+virtio\s+network \S+\s+-$/m);
    const byPrefix = await run("vm", "get", id.slice(0, 8), "--json");
    expect(JSON.parse(byPrefix.stdout)).toMatchObject({ vmId: id, labels: { a: "1" }, spec: { cdroms: [{ id: "installer" }] } });
  });

  test("an unknown name lists the VMs there are; an unknown id is the daemon's not_found; both exit 1", async () => {
    const byName = await run("vm", "get", "no-such-vm");
    expect(byName.code).toBe(1);
    expect(byName.stderr).toMatch(/^error: not_found: no vm named "no-such-vm" on this node \(vms on this node: .*get-me \(/);
    const id = crypto.randomUUID();
    const byId = await run("vm", "start", id);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toBe(`error: not_found: VM not found: ${id} is not defined on this node\n`);
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

describe("power operations, console, hot-plug, media, delete", () => {
  test("start, pause, resume, reboot, stop --timeout, force-stop print the new state; repeating one succeeds", async () => {
    await createVm("power-1");
    const expectState = async (args: string[], state: string) => {
      const r = await run("vm", ...args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^vm power-1 \\([0-9a-f-]{36}\\): ${state}`));
    };
    await expectState(["start", "power-1"], "running");
    await expectState(["start", "power-1"], "running");
    await expectState(["pause", "power-1"], "paused");
    await expectState(["pause", "power-1"], "paused");
    await expectState(["resume", "power-1"], "running");
    await expectState(["reboot", "power-1"], "running");
    await expectState(["stop", "power-1", "--timeout", "10"], "stopped");
    await expectState(["stop", "power-1"], "stopped");
    await expectState(["force-stop", "power-1"], "stopped");
    await expectState(["start", "power-1"], "running");
    await expectState(["force-stop", "power-1"], "stopped");
    // What cannot be done in a state is still refused: a stopped VM does not pause.
    const refused = await run("vm", "pause", "power-1");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: failed_precondition: /);
  });

  test("console prints type, host, port, password and the viewer commands", async () => {
    await createVm("console-1", { start: true });
    const r = await run("vm", "console", "console-1");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^type:\s+vnc$/m);
    const host = /^host:\s+(\S+)$/m.exec(r.stdout)?.[1];
    const port = /^port:\s+(\d+)$/m.exec(r.stdout)?.[1];
    expect(host).toBeDefined();
    expect(Number(port)).toBeGreaterThanOrEqual(5900);
    expect(r.stdout).toMatch(/^password:\s+pw$/m);
    const h = host!.includes(":") ? `[${host}]` : host;
    expect(r.stdout).toContain(`vncviewer ${h}::${port}`);
    expect(r.stdout).toContain(`remote-viewer vnc://${h}:${port}`);
    const json = JSON.parse((await run("vm", "console", "console-1", "--json")).stdout);
    expect(json).toMatchObject({ type: "vnc", port: Number(port), password: "pw" });
  });

  test("attach and detach a disk and a NIC; flag mistakes are usage errors before anything is sent", async () => {
    const id = await createVm("plug-1", { start: true });
    const attach = await run("vm", "attach-disk", "plug-1", "--disk-id", "data1", "--size", "1G", "--format", "raw", "--bus", "scsi");
    expect(attach.stderr).toBe("");
    expect(attach.stdout).toMatch(/disk data1 attached \(running\)/);
    const nic = await run("vm", "attach-nic", "plug-1", "--nic-id", "eth1", "--bridge", "br0", "--mac", "52:54:00:aa:bb:cc", "--model", "e1000");
    expect(nic.stderr).toBe("");
    expect(nic.code).toBe(0);
    const vm = await cliCtx.d.grpc.getVMStatus({ vmId: id });
    expect(vm.spec?.disks.map((x) => [x.id, x.sizeGib, x.format, x.bus])).toEqual([
      ["root", 1n, DiskFormat.QCOW2, DiskBus.VIRTIO],
      ["data1", 1n, DiskFormat.RAW, DiskBus.SCSI],
    ]);
    expect(vm.spec?.nics.find((n) => n.id === "eth1")).toMatchObject({ macAddress: "52:54:00:aa:bb:cc", bridge: "br0" });
    expect((await run("vm", "detach-disk", "plug-1", "--disk-id", "data1")).code).toBe(0);
    expect((await run("vm", "detach-nic", "plug-1", "--nic-id", "eth1")).code).toBe(0);
    const after = await cliCtx.d.grpc.getVMStatus({ vmId: id });
    expect(after.spec?.disks.map((x) => x.id)).toEqual(["root"]);
    expect(after.spec?.nics.map((n) => n.id)).not.toContain("eth1");

    const both = await run("vm", "attach-disk", "plug-1", "--disk-id", "x", "--size", "1G", "--path", "/tmp/x.img");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--size makes a new image; an absolute --path names an existing one");
    const neither = await run("vm", "attach-disk", "plug-1", "--disk-id", "x");
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("give --size (a new image), --path");
    const badMac = await run("vm", "attach-nic", "plug-1", "--nic-id", "eth9", "--network", "default", "--mac", "53:54:00:00:00:01");
    expect(badMac.code).toBe(2);
    expect(badMac.stderr).toContain("nic.mac_address: must be a unicast address");
    const badBus = await run("vm", "attach-disk", "plug-1", "--disk-id", "y", "--size", "1G", "--bus", "floppy");
    expect(badBus.code).toBe(2);
    expect(badBus.stderr).toContain('--bus "floppy": must be one of virtio, scsi, sata, ide');
  });

  test("media inserts an ISO into a CD-ROM by id or by device name, and ejects it", async () => {
    const id = await createVm("media-1", { start: true, cdrom: true });
    const iso = isoFile("media-test.iso");
    const medium = async () => (await cliCtx.d.grpc.getVMStatus({ vmId: id })).spec?.cdroms.find((c) => c.id === "installer");

    const byId = await run("vm", "media", "media-1", "--cdrom", "installer", "--iso", "iso/media-test.iso");
    expect(byId.stderr).toBe("");
    expect(byId.code).toBe(0);
    expect(byId.stdout).toBe(`vm media-1 (${id}): CD-ROM installer: inserted ${iso} (running)\n`);
    expect((await medium())?.resolvedPath).toBe(iso);
    const shown = await run("vm", "get", "media-1");
    expect(shown.stdout.split("\n")).toContainEqual(expect.stringMatching(/^installer\s+sd[a-z]\s+yes\s+\//));
    expect(shown.stdout).toContain(`yes   ${iso}\n`);

    const eject = await run("vm", "media", "media-1", "--cdrom", "installer", "--eject");
    expect(eject.stdout).toBe(`vm media-1 (${id}): CD-ROM installer ejected (running)\n`);
    const empty = await medium();
    expect(empty?.resolvedPath || empty?.isoPath || "").toBe("");

    // The control plane's name for it: sd + the letter after the VM's one disk.
    const byDevice = await run("vm", "media", "media-1", "--device", "sdb", "--iso", iso, "--json");
    expect(byDevice.code).toBe(0);
    expect(JSON.parse(byDevice.stdout).spec.cdroms[0]).toMatchObject({ id: "installer", resolvedPath: iso });

    const noDrive = await run("vm", "media", "media-1", "--eject");
    expect(noDrive.code).toBe(2);
    expect(noDrive.stderr).toContain("name the drive with --cdrom ID");
    const noAction = await run("vm", "media", "media-1", "--cdrom", "installer");
    expect(noAction.code).toBe(2);
    expect(noAction.stderr).toContain("give --iso PATH (insert) or --eject");
    const missing = await run("vm", "media", "media-1", "--cdrom", "nope", "--eject");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: not_found: /);
  });

  test("delete refuses a running VM unless --force, then it is gone", async () => {
    await createVm("del-1", { start: true });
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
  test("create (named and generated), list with the current one marked, revert, delete by snapshot id", async () => {
    await createVm("snap-1");
    const named = await run("snapshot", "create", "snap-1", "first", "--description", "known good");
    expect(named.stdout).toMatch(/^created snapshot first of vm snap-1 \(/);
    const generated = await run("snapshot", "create", "snap-1", "--json");
    const second = JSON.parse(generated.stdout);
    expect(second).toMatchObject({ parentId: "first", current: true, vmState: "POWER_STATE_STOPPED" });
    const list = await run("snapshot", "list", "snap-1");
    const rows = list.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^NAME\s+CREATED\s+PARENT\s+VM STATE\s+MEMORY\s+DESCRIPTION$/);
    expect(rows[1]).toMatch(/^ {2}first\s+\S+Z\s+-\s+stopped\s+no\s+known good$/);
    expect(rows[2]).toMatch(new RegExp(`^\\* ${second.snapshotId}\\s+\\S+\\s+first\\s+stopped`));
    const revert = await run("snapshot", "revert", "snap-1", "first");
    expect(revert.stdout).toMatch(/reverted to snapshot first, stopped/);
    const deleted = await run("snapshot", "delete", "snap-1", second.snapshotId, "--json");
    expect(JSON.parse(deleted.stdout)).toMatchObject({ snapshotId: second.snapshotId });
    const missing = await run("snapshot", "delete", "snap-1", second.snapshotId);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: not_found: /);
  });

  test("revert: powering a running vm off needs --force, as vm delete does; a snapshot with memory keeps it running", async () => {
    await createVm("snap-2");
    await run("snapshot", "create", "snap-2", "off");
    await run("vm", "start", "snap-2");
    await run("snapshot", "create", "snap-2", "on");
    const refused = await run("snapshot", "revert", "snap-2", "off");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: vm snap-2 \(\S+\) is running and snapshot off holds no memory \(it was taken while the vm was stopped\): reverting powers the vm off\. Stop it first, or pass --force\n$/,
    );
    expect((await run("vm", "get", "snap-2", "--json")).stdout).toContain("POWER_STATE_RUNNING");
    const withMemory = await run("snapshot", "revert", "snap-2", "on");
    expect(withMemory.stdout).toMatch(/reverted to snapshot on, running/);
    const forced = await run("snapshot", "revert", "snap-2", "off", "--force");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/reverted to snapshot off, stopped/);
  });
});
