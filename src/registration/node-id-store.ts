// The node id the control plane assigned, kept on disk so a restarted daemon keeps its identity.
import { mkdir, readFile, rename, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";

export const nodeIdFileName = "node-id";

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

/** Writes the id atomically (temporary file, then rename) so a crash never leaves half an id. */
export async function saveNodeId(stateDir: string, id: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const target = join(stateDir, nodeIdFileName);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${id}\n`, { mode: 0o600 });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
