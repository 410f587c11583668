// Keyset pagination over VMs ordered by id: a page token is the last id of the previous page,
// so VMs created or deleted between pages never shift the rest.

import type { VmStatus } from "../../hypervisor/types.ts";
import { invalidField } from "../errors.ts";

const MAX_PAGE_SIZE = 10_000;

export function paginate(vms: VmStatus[], pageSize: number, pageToken: string): { items: VmStatus[]; nextPageToken: string } {
  if (pageSize > MAX_PAGE_SIZE) throw invalidField("page_size", `must be at most ${MAX_PAGE_SIZE}, got ${pageSize}`);
  if (pageSize === 0 && !pageToken) return { items: vms, nextPageToken: "" };
  const after = pageToken ? decodeToken(pageToken) : "";
  const sorted = [...vms].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const start = after ? sorted.findIndex((v) => v.id > after) : 0;
  const rest = start < 0 ? [] : sorted.slice(start);
  const size = pageSize || rest.length;
  const items = rest.slice(0, size);
  const more = rest.length > size;
  return { items, nextPageToken: more ? encodeToken(items[items.length - 1]!.id) : "" };
}

function encodeToken(lastId: string): string {
  return Buffer.from(`after:${lastId}`).toString("base64url");
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, "base64url").toString();
  if (!text.startsWith("after:")) throw invalidField("page_token", "is not a token this node issued; start again without one");
  return text.slice("after:".length);
}
