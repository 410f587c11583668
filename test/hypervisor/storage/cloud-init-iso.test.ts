// The VM's NoCloud seed file: where it goes, its mode, and that the same request writes the same bytes.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloudInitIsoBytes, writeCloudInitIso } from "../../../src/hypervisor/storage/index.ts";

const dir = mkdtempSync(join(tmpdir(), "lq-ci-iso-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vm = { id: "2f1c4e8a-0b6d-4c3e-9a51-7d2e8f0a1b3c", name: "web-1" };
const ci = { userData: "#cloud-config\npackages: [nginx]\n", metaData: "", networkConfig: "", vendorData: "" };

describe("writeCloudInitIso", () => {
  test("<vm id>-cloud-init.iso, mode 0600 (its data can hold secrets) whatever the umask, a cidata ISO 9660 image; no temporary file left", async () => {
    const old = process.umask(0o000);
    let path: string;
    try {
      path = await writeCloudInitIso(join(dir, "made-here"), vm, ci);
    } finally {
      process.umask(old);
    }
    expect(path).toBe(join(dir, "made-here", `${vm.id}-cloud-init.iso`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const bytes = readFileSync(path);
    expect(new TextDecoder().decode(bytes.subarray(32769, 32774))).toBe("CD001");
    expect(new TextDecoder().decode(bytes.subarray(32808, 32814))).toBe("CIDATA");
    expect(readdirSync(join(dir, "made-here"))).toEqual([`${vm.id}-cloud-init.iso`]);
  });

  test("the same request gives the same bytes; other data, other bytes", () => {
    expect(cloudInitIsoBytes(vm, ci)).toEqual(cloudInitIsoBytes(vm, { ...ci }));
    expect(cloudInitIsoBytes(vm, ci)).not.toEqual(cloudInitIsoBytes(vm, { ...ci, userData: "#cloud-config\n" }));
  });

  test("a folder that cannot be written is an internal HypervisorError naming the file", async () => {
    const err = await writeCloudInitIso("/proc/nope", vm, ci).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "internal" });
    expect(String((err as Error).message)).toContain(`/proc/nope/${vm.id}-cloud-init.iso`);
  });
});
