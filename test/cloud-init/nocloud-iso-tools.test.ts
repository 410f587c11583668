// Cross-check against independent readers: genisoimage's isoinfo, xorriso (libisofs, strict
// about structure), libblkid (how cloud-init finds the "cidata" device), pycdlib (a validating
// Python parser) and, where the kernel has isofs and we are root, Linux itself via a loop mount.
// Every file must come back byte for byte through the Joliet names the guest will see.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { noCloudFiles } from "../../src/cloud-init/nocloud-files.ts";
import { buildNoCloudIso } from "../../src/cloud-init/nocloud-iso.ts";
import { BASIC_DATE } from "./fixtures.ts";
import { TOOL_ENV, python, run, tempDir, tool } from "./host-tools.ts";

const tools = { isoinfo: tool("isoinfo"), xorriso: tool("xorriso"), blkid: tool("blkid"), pycdlib: python("pycdlib") };

// Deterministic bytes without a seed-less Math.random: a 32-bit LCG.
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const FILES: { name: string; content: Uint8Array }[] = [
  ...noCloudFiles(
    { id: "6c2b1a8e-4f0d-4c1e-9a57-0d6c2f1b3e9a", name: 'web 01: "prod"' },
    { userData: "", metaData: "", networkConfig: "version: 2\nethernets: {}\n", vendorData: "#cloud-config\n{}\n" },
  ).map((f) => ({ name: f.name, content: new TextEncoder().encode(f.content) })),
  { name: "all-bytes.bin", content: Uint8Array.from({ length: 512 }, (_, i) => i % 256) },
  { name: "exactly-2048", content: bytes(2048, 1) },
  { name: "three-mib", content: bytes(3 * 1024 * 1024 + 5, 2) },
  { name: "empty", content: new Uint8Array(0) },
  { name: "Mixed Case é.txt", content: new TextEncoder().encode("unicode name\n") },
];

const image = buildNoCloudIso(FILES, { date: BASIC_DATE });
const sectors = image.length / 2048;
let tmp: ReturnType<typeof tempDir>;
let img: string;

beforeAll(() => {
  tmp = tempDir();
  img = join(tmp.dir, "seed.iso");
  writeFileSync(img, image);
});
afterAll(() => tmp.remove());

const sorted = (names: Iterable<string>) => [...names].sort();
const expectSame = (got: Uint8Array, want: Uint8Array, what: string) => {
  expect({ what, length: got.length }).toEqual({ what, length: want.length });
  expect(Buffer.compare(Buffer.from(got), Buffer.from(want))).toBe(0);
};

describe("isoinfo (genisoimage)", () => {
  test.skipIf(!tools.isoinfo)("-d: volume id, Joliet level 3, volume size", () => {
    const out = run([tools.isoinfo as string, "-d", "-i", img]).stdout.toString();
    expect(out).toMatch(/^Volume id: CIDATA$/m);
    expect(out).toMatch(/^Joliet with UCS level 3 found$/m);
    expect(out).toMatch(new RegExp(`^Volume size is: ${sectors}$`, "m"));
    expect(out).toMatch(/^Logical block size is: 2048$/m);
  });

  test.skipIf(!tools.isoinfo)("-J -l lists the real names and sizes; -J -x extracts each byte for byte", () => {
    // isoinfo knows no UTF-8: names are listed in ISO 8859-1, which holds every name used here.
    const listing = run([tools.isoinfo as string, "-J", "-j", "iso8859-1", "-l", "-i", img]).stdout.toString("latin1");
    const entries = [...listing.matchAll(/^-\S+\s+\d+\s+\d+\s+\d+\s+(\d+) .*?\] {2}(.*?) ?$/gm)].map((m) => `${m[2]} ${m[1]}`);
    expect(sorted(entries)).toEqual(sorted(FILES.map((f) => `${f.name} ${f.content.length}`)));
    // -x takes the path as bytes in that charset, which an argument from here (UTF-8) is not:
    // the non-ASCII name is extracted by xorriso and pycdlib below instead.
    for (const f of FILES.filter((f) => /^[\x20-\x7e]+$/.test(f.name))) {
      expectSame(run([tools.isoinfo as string, "-J", "-x", `/${f.name}`, "-i", img]).stdout, f.content, f.name);
    }
  });

  test.skipIf(!tools.isoinfo)("the primary tree's d-character names reach the same data", () => {
    const listing = run([tools.isoinfo as string, "-l", "-i", img]).stdout.toString();
    const names = [...listing.matchAll(/^-.*\] {2}(\S+) ?$/gm)].map((m) => m[1]);
    expect(names).toContain("USER_DATA.;1");
    expect(names).toContain("MIXED_CASE__.TXT;1");
    const user = FILES.find((f) => f.name === "user-data") as (typeof FILES)[number];
    expectSame(run([tools.isoinfo as string, "-x", "/USER_DATA.;1", "-i", img]).stdout, user.content, "USER_DATA.;1");
  });
});

describe("xorriso (libisofs)", () => {
  // -return_with WARNING 32: any message of WARNING or worse makes the exit code non-zero.
  const xorriso = (...args: string[]) => run([tools.xorriso as string, "-return_with", "WARNING", "32", "-indev", img, ...args]);
  const problems = (stderr: string) => stderr.split("\n").filter((l) => /: (WARNING|SORRY|FAILURE|MISHAP|FATAL|ABORT) :/.test(l));

  test.skipIf(!tools.xorriso)("-find / lists the files with no warning; the Joliet tree is what it loads", () => {
    const r = xorriso("-toc", "-find", "/", "-type", "f");
    expect(problems(r.stderr)).toEqual([]);
    const out = r.stdout.toString();
    expect(out).toMatch(/^ISO loaded\s+: Joliet$/m);
    expect(out).toMatch(new RegExp(`^ISO session\\s+:\\s+1 ,\\s+0 ,\\s+${sectors}s , CIDATA$`, "m"));
    const found = [...out.matchAll(/^'\/(.*)'$/gm)].map((m) => m[1] as string);
    expect(sorted(found)).toEqual(sorted(FILES.map((f) => f.name)));
  });

  test.skipIf(!tools.xorriso)("osirrox extracts every file byte for byte", () => {
    const out = join(tmp.dir, "osirrox");
    const r = run([tools.xorriso as string, "-return_with", "WARNING", "32", "-osirrox", "on", "-indev", img, "-extract", "/", out]);
    expect(problems(r.stderr)).toEqual([]);
    expect(sorted(readdirSync(out))).toEqual(sorted(FILES.map((f) => f.name)));
    for (const f of FILES) expectSame(readFileSync(join(out, f.name)), f.content, f.name);
  });
});

describe("blkid (libblkid, what cloud-init's NoCloud uses to find the device)", () => {
  test.skipIf(!tools.blkid)("LABEL is cidata (the Joliet volume id), TYPE iso9660 with Joliet", () => {
    expect(run([tools.blkid as string, "-o", "value", "-s", "LABEL", img]).stdout.toString()).toBe("cidata\n");
    const probe = run([tools.blkid as string, "-p", "-o", "export", img]).stdout.toString();
    expect(probe).toMatch(/^TYPE=iso9660$/m);
    expect(probe).toMatch(/^LABEL=cidata$/m);
    expect(probe).toMatch(/^VERSION=Joliet\\ Extension$/m); // -o export escapes the space
    // cloud-init's own query (util.find_devs_with): blkid -tLABEL=cidata -odevice.
    expect(run([tools.blkid as string, "-t", "LABEL=cidata", "-o", "device", img]).stdout.toString()).toBe(`${img}\n`);
  });
});

const PYCDLIB_READ = `
import hashlib, io, json, sys, pycdlib
iso = pycdlib.PyCdlib()
iso.open(sys.argv[1])  # raises PyCdlibInvalidISO on structural errors
def read(**path):
    b = io.BytesIO(); iso.get_file_from_iso_fp(b, **path); return hashlib.sha256(b.getvalue()).hexdigest()
joliet = {}
for c in iso.list_children(joliet_path="/"):
    if c.is_dot() or c.is_dotdot(): continue
    name = c.file_identifier().decode("utf-16-be")
    joliet[name] = read(joliet_path="/" + name)
primary = [c.file_identifier().decode() for c in iso.list_children(iso_path="/") if not (c.is_dot() or c.is_dotdot())]
print(json.dumps({"joliet": joliet, "primary": primary,
  "pvd": iso.pvd.volume_identifier.decode().rstrip(),
  "svd": iso.joliet_vd.volume_identifier.decode("utf-16-be").rstrip()}))
`;

describe("pycdlib", () => {
  test.skipIf(!tools.pycdlib)("opens the image and reads every Joliet file", () => {
    const got = JSON.parse(run([tools.pycdlib as string, "-c", PYCDLIB_READ, img]).stdout.toString());
    const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
    expect(got.joliet).toEqual(Object.fromEntries(FILES.map((f) => [f.name, sha(f.content)])));
    expect(got.primary).toHaveLength(FILES.length);
    expect({ pvd: got.pvd, svd: got.svd }).toEqual({ pvd: "CIDATA", svd: "cidata" });
  });
});

describe("Linux isofs", () => {
  // Needs root, loop devices and an isofs-capable kernel; sandboxes often lack one of them,
  // which is why this is the one check that skips (with the reason) even on CI.
  test("mount -o loop,ro shows the Joliet names and contents", () => {
    const mnt = join(tmp.dir, "mnt");
    mkdirSync(mnt);
    const m = Bun.spawnSync(["mount", "-o", "loop,ro", "-t", "iso9660", img, mnt], { env: TOOL_ENV });
    if (m.exitCode !== 0) {
      console.warn(`cloud-init ISO cross-check: mount -o loop,ro failed here (${m.stderr.toString().trim().split("\n")[0]}); mount check skipped`);
      return;
    }
    try {
      expect(sorted(readdirSync(mnt))).toEqual(sorted(FILES.map((f) => f.name)));
      for (const f of FILES) expectSame(readFileSync(join(mnt, f.name)), f.content, f.name);
    } finally {
      run(["umount", mnt]);
    }
  });
});
