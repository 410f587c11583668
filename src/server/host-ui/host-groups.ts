// Who may use the host UI: root, and the members of host_ui.admin_group. Asked of `id` (coreutils),
// which goes through NSS like login does, so LDAP/SSSD users and groups count the same as local ones.

export interface HostAccount {
  uid: number;
  /** Every group the account is in (primary and supplementary), by name. */
  groups: string[];
}

/**
 * Parses `id <user>` output: "uid=1001(alice) gid=1001(alice) groups=1001(alice),27(sudo)".
 * A group without a name (no NSS entry) is left out: it cannot be the admin group.
 */
export function parseIdOutput(text: string): HostAccount | undefined {
  const uid = /\buid=(\d+)/.exec(text);
  if (!uid) return undefined;
  const names = new Set<string>();
  const gid = /\bgid=\d+\(([^)]*)\)/.exec(text);
  if (gid?.[1]) names.add(gid[1]);
  const groups = /\bgroups=(\S+)/.exec(text);
  for (const m of (groups?.[1] ?? "").matchAll(/\d+\(([^)]*)\)/g)) if (m[1]) names.add(m[1]);
  return { uid: Number(uid[1]), groups: [...names] };
}

export function mayUseHostUi(account: HostAccount, adminGroup: string): boolean {
  return account.uid === 0 || account.groups.includes(adminGroup);
}

/** Looks the account up; undefined when `id` does not know it. */
export async function readHostAccount(username: string): Promise<HostAccount | undefined> {
  const proc = Bun.spawn(["id", "--", username], { stdout: "pipe", stderr: "ignore", env: { LC_ALL: "C", PATH: "/usr/bin:/bin" } });
  const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
  return code === 0 ? parseIdOutput(out) : undefined;
}
