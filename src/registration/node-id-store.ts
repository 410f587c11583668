// The node id the control plane assigned, kept on disk so a restarted daemon keeps its identity.
// The file is private (0600); the folders created for it are not (0755): with the default layout
// the state folder also holds the VM images (<state_dir>/vms), and QEMU, which runs as its own
// user, must be able to pass through it whichever part of the daemon creates it first.
import { chmod, mkdir, readFile, rename, writeFile, rm } from "node:fs/promises";
import { join, relative, sep } from "node:path";

export const nodeIdFileName = "node-id";
/** Folders this store creates; chmod'ed after mkdir, so a strict umask (systemd's UMask=0027) cannot narrow them. */
const createdFolderMode = 0o755;
const nodeIdFileMode = 0o600;

/** The stored id, or undefined when none was stored yet. Other read errors are thrown. */
export async function loadNodeId(stateDir: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(stateDir, nodeIdFileName), "utf8");
    const id = text.trim();
    return id === "" ? undefined : id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Creates stateDir and any missing parents 0755; folders that already exist keep their mode. */
async function ensureStateDir(stateDir: string): Promise<void> {
  const first = await mkdir(stateDir, { recursive: true, mode: createdFolderMode });
  if (first === undefined) return;
  // mkdir returns the first folder it created: that one and every folder below it down to stateDir.
  const below = relative(first, stateDir)
    .split(sep)
    .filter((p) => p !== "");
  await chmod(first, createdFolderMode);
  for (let i = 1; i <= below.length; i++) await chmod(join(first, ...below.slice(0, i)), createdFolderMode);
}

/** Writes the id atomically (temporary file, then rename) so a crash never leaves half an id. */
export async function saveNodeId(stateDir: string, id: string): Promise<void> {
  await ensureStateDir(stateDir);
  const target = join(stateDir, nodeIdFileName);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${id}\n`, { mode: nodeIdFileMode });
    // The mode above applies only to a new file; a leftover of a crashed run keeps its own.
    await chmod(tmp, nodeIdFileMode);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
