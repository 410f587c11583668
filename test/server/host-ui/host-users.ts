// Real host accounts for the host UI's PAM tests: a group standing in for host_ui.admin_group,
// one user in it and one not, with passwords set by chpasswd. Names start with lq16t and carry
// a random suffix so parallel runs do not clash; remove() deletes them again.

import { randomBytes } from "node:crypto";

export interface TestAccounts {
  group: string;
  admin: { name: string; password: string };
  plain: { name: string; password: string };
  remove(): void;
}

export const canCreateUsers = () =>
  process.getuid?.() === 0 && Bun.which("useradd") !== null && Bun.which("chpasswd") !== null && Bun.which("groupadd") !== null;

function run(cmd: string[], stdin?: string): void {
  const r = Bun.spawnSync(cmd, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
}

export function createTestAccounts(): TestAccounts {
  const suffix = randomBytes(3).toString("hex");
  const group = `lq16tg${suffix}`;
  const admin = { name: `lq16ta${suffix}`, password: `A-${randomBytes(9).toString("base64url")}` };
  const plain = { name: `lq16tu${suffix}`, password: `U-${randomBytes(9).toString("base64url")}` };
  const remove = () => {
    for (const u of [admin.name, plain.name]) Bun.spawnSync(["userdel", u], { stdout: "ignore", stderr: "ignore" });
    Bun.spawnSync(["groupdel", group], { stdout: "ignore", stderr: "ignore" });
  };
  try {
    run(["groupadd", group]);
    run(["useradd", "-M", "-s", "/usr/sbin/nologin", "-G", group, admin.name]);
    run(["useradd", "-M", "-s", "/usr/sbin/nologin", plain.name]);
    run(["chpasswd"], `${admin.name}:${admin.password}\n${plain.name}:${plain.password}\n`);
  } catch (err) {
    remove();
    throw err;
  }
  return { group, admin, plain, remove };
}
