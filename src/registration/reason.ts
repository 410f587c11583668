// One line saying why a call failed, for logs and status().
import { Code, ConnectError } from "@connectrpc/connect";

export function reason(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage || Code[err.code] || String(err.code);
  return err instanceof Error ? err.message : String(err);
}
