// A VM's NoCloud seed as a file: `<vm id>-cloud-init.iso` in the node's default storage, mode
// 0600: its data can hold secrets. libvirt hands it to QEMU's user while the VM runs, as it does
// every disk image (its dynamic ownership). Written to a temporary name and renamed,
// so a VM never sees half an ISO. A seed that cannot be written fails the create (the reference
// node created the VM without it, which then boots unconfigured). The ISO is built in memory (src/cloud-init) and depends only
// on its input, so the same request writes the same bytes.

import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { HypervisorError } from "../errors.ts";
import { posix } from "node:path";
import { buildNoCloudIso } from "../../cloud-init/nocloud-iso.ts";
import { noCloudFiles } from "../../cloud-init/nocloud-files.ts";
import type { CloudInit } from "../types.ts";
import { cloudInitIsoName } from "./node-cdroms.ts";

/** The ISO's bytes for a VM (pure). */
export function cloudInitIsoBytes(vm: { id: string; name: string }, ci: CloudInit): Uint8Array {
  return buildNoCloudIso(noCloudFiles(vm, ci));
}

/** Writes the VM's seed into dir and returns its path. */
export async function writeCloudInitIso(dir: string, vm: { id: string; name: string }, ci: CloudInit): Promise<string> {
  const path = posix.join(dir, cloudInitIsoName(vm.id));
  const tmp = `${path}.${process.pid}.tmp`;
  const bytes = cloudInitIsoBytes(vm, ci);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, bytes, { mode: 0o600 });
    // Whatever the umask and an earlier file: owner only.
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new HypervisorError("internal", `cannot write the cloud-init ISO ${path}: ${(err as Error).message}`, undefined, { cause: err });
  }
  return path;
}
