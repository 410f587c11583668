// Table tests of the cpuinfo, sysfs, os-release and mount parsers.

import { describe, expect, test } from "bun:test";
import { parseCpuInfo, summarizeCpu } from "../../src/telemetry/cpuinfo.ts";
import { parseCpuList } from "../../src/telemetry/cpu-list.ts";
import { osNameOf, parseOsRelease } from "../../src/telemetry/os-release.ts";
import { kernelIdentityReader, parseSysctlValue, readKernelIdentity } from "../../src/telemetry/kernel.ts";
import { createMemoryIo } from "./memory-io.ts";
import { hugePagesReader, parseHugePageCount, parseHugePageDirName } from "../../src/telemetry/hugepages.ts";
import { isPassthroughCandidate, parsePciDevice, sortPciDevices } from "../../src/telemetry/pci.ts";
import { pciClassName } from "../../src/telemetry/pci-names.ts";
import { nodesFromListing } from "../../src/telemetry/numa.ts";
import { filesystemsReader, mountFor, parseMounts, toFilesystemSample } from "../../src/telemetry/filesystems.ts";
import type { HostIo, StatFsResult } from "../../src/telemetry/host-io.ts";
import { armModelName } from "../../src/telemetry/arm-parts.ts";

function block(cpu: number, physical: number, core: number, extra = ""): string {
  return `processor\t: ${cpu}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz\ncpu MHz\t\t: 2100.000\nphysical id\t: ${physical}\nsiblings\t: 4\ncore id\t\t: ${core}\ncpu cores\t: 2\nflags\t\t: fpu vmx ht\n${extra}\n`;
}

describe("cpuinfo", () => {
  test("2 sockets x 2 cores x 2 threads", () => {
    const text = [block(0, 0, 0), block(1, 0, 1), block(2, 1, 0), block(3, 1, 1), block(4, 0, 0), block(5, 0, 1), block(6, 1, 0), block(7, 1, 1)].join("");
    const entries = parseCpuInfo(text);
    expect(entries).toHaveLength(8);
    expect(entries[2]).toMatchObject({ processor: 2, physicalId: 1, coreId: 0, siblings: 4, cpuCores: 2, mhz: 2100, flags: ["fpu", "vmx", "ht"] });
    expect(summarizeCpu(entries, { online: [0, 1, 2, 3, 4, 5, 6, 7], present: [0, 1, 2, 3, 4, 5, 6, 7] })).toEqual({
      model: "Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz",
      sockets: 2,
      coresPerSocket: 2,
      threadsPerCore: 2,
      totalThreads: 8,
      onlineCpus: 8,
      mhz: 2100,
      flags: ["fpu", "vmx", "ht"],
      virtualization: true,
    });
  });
  test("arm64: no model name, no ids; sysfs topology and cpufreq fill in", () => {
    const text =
      "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n\nprocessor\t: 1\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
    const entries = parseCpuInfo(text);
    const topology = new Map([
      [0, { packageId: 0, coreId: 0 }],
      [1, { packageId: 0, coreId: 1 }],
    ]);
    expect(summarizeCpu(entries, { online: [0, 1], topology, maxMhz: 3000 })).toMatchObject({
      model: "Neoverse-N1",
      sockets: 1,
      coresPerSocket: 2,
      threadsPerCore: 1,
      mhz: 3000,
      virtualization: false,
      flags: ["fp", "asimd"],
    });
    // Without any topology the CPUs count as one socket of single-thread cores.
    // No clock in cpuinfo nor cpufreq: the frequency is unknown, not 0.
    const bare = summarizeCpu(entries, {});
    expect(bare).toMatchObject({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1, totalThreads: 2, onlineCpus: 2 });
    expect(bare.mhz).toBeUndefined();
  });
  test.each([
    ["0x41", "0xd4f", "Neoverse-V2"],
    ["0xc0", "0xac3", "Ampere-1"],
    ["0x41", "0xfff", "ARM part 0xfff"],
    ["0x99", undefined, "implementer 0x99"],
  ])("armModelName(%s, %s)", (imp, part, name) => {
    expect(armModelName(imp, part)).toBe(name);
  });
  test("empty cpuinfo: nothing, and a summary that says unknown", () => {
    expect(parseCpuInfo("")).toEqual([]);
    expect(summarizeCpu([], { online: [0] }).model).toBe("unknown");
  });
  test.each([
    ["garbage processor", "processor\t: zero\n", 1, "processor"],
    ["garbage core id", "processor\t: 0\ncore id\t: x\n", 2, "core id"],
    ["garbage MHz", "processor\t: 0\ncpu MHz\t: fast\n", 2, "cpu MHz"],
  ])("%s", (_n, text, line, reason) => {
    expect(() => parseCpuInfo(text, "/p/cpuinfo")).toThrow(`/p/cpuinfo:${line}: ${reason}`);
  });
  test("svm counts as virtualization", () => {
    expect(summarizeCpu(parseCpuInfo("processor\t: 0\nflags\t\t: svm npt\n"), {}).virtualization).toBe(true);
  });
});

describe("parseCpuList", () => {
  test.each([
    ["0-3,8,10-11\n", [0, 1, 2, 3, 8, 10, 11]],
    ["0\n", [0]],
    ["\n", []],
    ["", []],
  ])("%j", (text, cpus) => {
    expect(parseCpuList(text, "online")).toEqual(cpus);
  });
  test.each(["0-", "a", "3-1", "0,,1"])("rejects %j", (text) => {
    expect(() => parseCpuList(text, "/sys/devices/system/cpu/online")).toThrow("/sys/devices/system/cpu/online:1");
  });
});

describe("os-release", () => {
  test("quotes, escapes, comments", () => {
    const m = parseOsRelease('# comment\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\nX=\'a "b"\'\nY="say \\"hi\\""\n\n');
    expect(Object.fromEntries(m)).toEqual({ NAME: "Debian GNU/Linux", VERSION_ID: "12", ID: "debian", X: 'a "b"', Y: 'say "hi"' });
    expect(osNameOf(m)).toEqual({ name: "Debian GNU/Linux", version: "12" });
  });
  test("absent file: Linux with no version; empty file likewise", () => {
    expect(osNameOf(undefined)).toEqual({ name: "Linux" });
    expect(osNameOf(parseOsRelease(""))).toEqual({ name: "Linux" });
  });
  test.each([
    ["garbage", "this is not it\n", 1],
    ["unterminated", 'NAME="Debian\n', 1],
  ])("%s", (_n, text, line) => {
    expect(() => parseOsRelease(text)).toThrow(`/etc/os-release:${line}`);
  });
});

describe("one-value sysfs and sysctl files", () => {
  test("values", () => {
    expect(parseSysctlValue("vm\n", "hostname")).toBe("vm");
    expect(parseHugePageCount("16\n", "nr_hugepages")).toBe(16);
    expect(parseHugePageDirName("hugepages-1048576kB")).toBe(1048576);
    expect(parseHugePageDirName("something")).toBeUndefined();
    expect(nodesFromListing(["node1", "node0", "online", "possible", "has_cpu", "power"])).toEqual([0, 1]);
  });
  test.each([
    ["empty hostname", () => parseSysctlValue("\n", "/proc/sys/kernel/hostname"), "/proc/sys/kernel/hostname:1: empty value"],
    ["two lines", () => parseSysctlValue("a\nb\n", "/h"), "/h:2"],
    ["garbage count", () => parseHugePageCount("many\n", "/n"), "/n:1"],
    ["empty count", () => parseHugePageCount("", "/n"), "/n:1"],
  ])("%s", (_n, fn, msg) => {
    expect(fn).toThrow(msg);
  });
});

describe("pci", () => {
  const gpu = parsePciDevice({
    address: "0000:3b:00.0",
    vendor: "0x10de\n",
    device: "0x1eb8\n",
    class: "0x030200\n",
    driverLink: "../../../bus/pci/drivers/vfio-pci",
    iommuGroupLink: "../../../kernel/iommu_groups/42",
  });
  test("ids, class name, driver and IOMMU group from the symlinks", () => {
    expect(gpu).toEqual({
      address: "0000:3b:00.0",
      vendorId: "0x10de",
      deviceId: "0x1eb8",
      classCode: "0x030200",
      className: "3D controller",
      isGpu: true,
      vendorName: "NVIDIA Corporation",
      driver: "vfio-pci",
      iommuGroup: 42,
    });
  });
  test("no driver, no IOMMU: absent, not zero", () => {
    const d = parsePciDevice({ address: "0000:00:1f.4", vendor: "0x8086", device: "0xa1a3", class: "0x0c0500" });
    expect(d.driver).toBeUndefined();
    expect(d.iommuGroup).toBeUndefined();
    expect(d.className).toBe("SMBus");
  });
  test("GPUs first, bridges out", () => {
    const nic = parsePciDevice({ address: "0000:18:00.0", vendor: "0x8086", device: "0x1572", class: "0x020000" });
    const bridge = parsePciDevice({ address: "0000:00:00.0", vendor: "0x8086", device: "0x2020", class: "0x060000" });
    expect(sortPciDevices([nic, bridge, gpu].filter(isPassthroughCandidate)).map((d) => d.address)).toEqual(["0000:3b:00.0", "0000:18:00.0"]);
  });
  test.each([
    ["0x030000", "VGA compatible controller"],
    ["0x010802", "Non-Volatile memory controller"],
    ["0x0d1100", "Wireless controller"],
    ["0x420000", "Class 4200"],
  ])("pciClassName(%s)", (code, name) => expect(pciClassName(code)).toBe(name));
  test.each([
    ["garbage vendor", { vendor: "nvidia" }, "vendor"],
    ["empty class", { class: "" }, "class"],
    ["bad group", { iommuGroupLink: "../groups/x" }, "iommu_group"],
  ])("%s", (_n, patch, file) => {
    const raw = { address: "0000:01:00.0", vendor: "0x10de", device: "0x1eb8", class: "0x030000", ...patch };
    expect(() => parsePciDevice(raw)).toThrow(`/sys/bus/pci/devices/0000:01:00.0/${file}`);
  });
});

describe("mounts and statfs", () => {
  const mounts = parseMounts(
    "rootfs / rootfs rw 0 0\n/dev/vda / ext4 rw 0 0\n/dev/md0 /var/lib/limiquantix xfs rw 0 0\n/dev/sdb1 /mnt/backup\\040disk ext4 rw 0 0\n/dev/sdc1 /var/lib/limiquantix-other ext4 rw 0 0\n",
  );
  test.each([
    ["/", "/dev/vda"],
    ["/var/lib/limiquantix", "/dev/md0"],
    ["/var/lib/limiquantix/images", "/dev/md0"],
    ["/var/lib/limiquantix-other/x", "/dev/sdc1"],
    ["/mnt/backup disk", "/dev/sdb1"],
    ["/home", "/dev/vda"],
  ])("mountFor(%j)", (path, device) => {
    expect(mountFor(path, mounts)?.device).toBe(device);
  });
  test("df arithmetic", () => {
    const s = toFilesystemSample("/", { blockSize: 4096, blocks: 100, blocksFree: 40, blocksAvailable: 30, files: 10, filesFree: 4 }, mounts[1]);
    expect(s).toEqual({
      path: "/",
      totalBytes: 409600,
      usedBytes: 245760,
      availableBytes: 122880,
      freeBytes: 163840,
      files: 10,
      filesFree: 4,
      mountpoint: "/",
      device: "/dev/vda",
      fstype: "ext4",
    });
  });
  test("empty and short", () => {
    expect(parseMounts("")).toEqual([]);
    expect(() => parseMounts("/dev/vda /\n")).toThrow("/proc/self/mounts:1");
  });
});

describe("filesystemsReader", () => {
  const roots = { proc: "/p", sys: "/s", etc: "/e" };
  const fs: StatFsResult = { blockSize: 4096, blocks: 100, blocksFree: 40, blocksAvailable: 30, files: 10, filesFree: 4 };
  const paths = ["/", "/var/lib/vms", "/mnt/nfs", "/mnt/sshfs", "/tank", "/absent"];
  const statfs = Object.fromEntries(paths.filter((p) => p !== "/absent").map((p) => [p, fs]));
  const table =
    "/dev/vda / ext4 rw 0 0\n/dev/md0 /var/lib/vms xfs rw 0 0\nnas:/export /mnt/nfs nfs4 rw 0 0\nu@h:/ /mnt/sshfs fuse.sshfs rw 0 0\ntank /tank zfs rw 0 0\n";
  /** The memory io, recording how each statfs was asked for. */
  const recording = (io: HostIo, asked: Array<[string, boolean | undefined]>): HostIo => ({
    ...io,
    statfs: (path, how) => {
      asked.push([path, how?.local]);
      return io.statfs(path);
    },
  });

  test("statfs on the API thread only for local filesystems; network, FUSE and others through the pool", async () => {
    const asked: Array<[string, boolean | undefined]> = [];
    const read = filesystemsReader(recording(createMemoryIo({ "/p/self/mounts": table }, { statfs }), asked), roots, paths);
    const samples = await read();
    expect(asked).toEqual([
      ["/", true],
      ["/var/lib/vms", true],
      ["/mnt/nfs", false],
      ["/mnt/sshfs", false],
      ["/tank", false],
      // Not there (yet), on the root's ext4: asked as local, answered ENOENT, left out.
      ["/absent", true],
    ]);
    // The absent path is left out; the others are labelled with their mount.
    expect(samples.map((s) => [s.path, s.fstype])).toEqual([
      ["/", "ext4"],
      ["/var/lib/vms", "xfs"],
      ["/mnt/nfs", "nfs4"],
      ["/mnt/sshfs", "fuse.sshfs"],
      ["/tank", "zfs"],
    ]);
  });

  test("without a readable mount table every statfs goes through the pool, and figures still come", async () => {
    const asked: Array<[string, boolean | undefined]> = [];
    const samples = await filesystemsReader(recording(createMemoryIo({}, { statfs }), asked), roots, ["/"])();
    expect(asked).toEqual([["/", false]]);
    expect(samples[0]?.totalBytes).toBe(409600);
    expect(samples[0]?.fstype).toBeUndefined();
  });

  test("follows the mount table when it changes (a storage mount appears, then goes)", async () => {
    const io = createMemoryIo({ "/p/self/mounts": "/dev/vda / ext4 rw 0 0\n" }, { statfs });
    const asked: Array<[string, boolean | undefined]> = [];
    const read = filesystemsReader(recording(io, asked), roots, ["/var/lib/vms"]);
    expect((await read())[0]?.device).toBe("/dev/vda");
    io.files.set("/p/self/mounts", "/dev/vda / ext4 rw 0 0\nnas:/vms /var/lib/vms nfs4 rw 0 0\n");
    expect((await read())[0]?.device).toBe("nas:/vms");
    io.files.set("/p/self/mounts", "/dev/vda / ext4 rw 0 0\n");
    expect((await read())[0]?.device).toBe("/dev/vda");
    expect(asked.map(([, local]) => local)).toEqual([true, false, true]);
    expect(io.readsOf("/p/self/mounts")).toBe(3);
  });
});

describe("kernelIdentityReader", () => {
  const files = {
    "/p/sys/kernel/hostname": "node-a\n",
    "/p/sys/kernel/domainname": "(none)\n",
    "/p/sys/kernel/osrelease": "6.1.0-27-amd64\n",
    "/p/sys/kernel/arch": "x86_64\n",
    "/p/sys/kernel/version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1\n",
  };
  const roots = { proc: "/p", sys: "/s", etc: "/e" };

  test("names every time (an operator may rename the host), release, arch and build once", async () => {
    const io = createMemoryIo(files);
    const read = kernelIdentityReader(io, roots);
    expect(await read()).toEqual({
      hostname: "node-a",
      domainname: "(none)",
      release: "6.1.0-27-amd64",
      arch: "x86_64",
      version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1",
    });
    io.files.set("/p/sys/kernel/hostname", "node-b\n");
    expect((await read()).hostname).toBe("node-b");
    await read();
    expect([io.readsOf("/p/sys/kernel/hostname"), io.readsOf("/p/sys/kernel/osrelease"), io.readsOf("/p/sys/kernel/version")]).toEqual([3, 1, 1]);
    expect(await read()).toEqual(await readKernelIdentity(io, roots));
  });

  test("a first read that fails is tried again, not remembered", async () => {
    const io = createMemoryIo({ "/p/sys/kernel/hostname": "node-a\n" });
    const read = kernelIdentityReader(io, roots);
    await expect(read()).rejects.toThrow("ENOENT");
    io.files.set("/p/sys/kernel/osrelease", "6.1.0-27-amd64\n");
    expect((await read()).release).toBe("6.1.0-27-amd64");
  });
});

describe("hugePagesReader", () => {
  test("lists the page sizes once (fixed from boot), reads the counts every time", async () => {
    const dir = "/s/kernel/mm/hugepages";
    const io = createMemoryIo({
      [`${dir}/hugepages-2048kB/nr_hugepages`]: "16\n",
      [`${dir}/hugepages-2048kB/free_hugepages`]: "16\n",
      [`${dir}/hugepages-1048576kB/nr_hugepages`]: "2\n",
      [`${dir}/hugepages-1048576kB/free_hugepages`]: "1\n",
    });
    const read = hugePagesReader(io, { proc: "/p", sys: "/s", etc: "/e" });
    expect((await read())?.bySizeKb.get(2048)).toEqual({ total: 16, free: 16 });
    io.files.set(`${dir}/hugepages-2048kB/free_hugepages`, "4\n");
    expect((await read())?.bySizeKb).toEqual(
      new Map([
        [2048, { total: 16, free: 4 }],
        [1048576, { total: 2, free: 1 }],
      ]),
    );
    expect([io.readsOf(dir), io.readsOf(`${dir}/hugepages-2048kB/free_hugepages`)]).toEqual([1, 2]);
  });
});
