// Storage pools and, for one pool, the files of one of its folders (#/storage/<pool>?path=iso).

import { h, replace, table } from "../dom.ts";
import { bytes, percent, time } from "../format.ts";
import { listFiles, listPools } from "./pools.ts";

function query(name: string): string {
  return new URLSearchParams(location.hash.split("?")[1] ?? "").get(name) ?? "";
}

export async function renderStorage(root: HTMLElement, [poolId]: string[]): Promise<void> {
  const pools = await listPools();
  const poolTable = table(
    ["Pool", "Type", "Path", "Used", "Free", "State"],
    pools.map((p) => [
      h("a", { href: `#/storage/${encodeURIComponent(p.poolId)}` }, p.name || p.poolId),
      (p.type ?? "").replace(/^STORAGE_POOL_TYPE_/, "").toLowerCase(),
      p.mountPath ?? "",
      h("meter", {
        min: 0,
        max: 100,
        value: percent(Number(p.usedBytes ?? 0), Number(p.totalBytes ?? 0)),
        title: `${bytes(p.usedBytes)} of ${bytes(p.totalBytes)}`,
      }),
      bytes(p.availableBytes),
      p.active === false ? `inactive ${p.errorMessage ?? ""}` : "active",
    ]),
    { "data-testid": "pools" },
  );
  replace(root, h("h1", {}, "Storage"), poolTable);
  if (!poolId) return;

  const path = query("path");
  const files = h("div", { "data-testid": "pool-files" }, "Loading…");
  const crumbs = path.split("/").filter(Boolean);
  root.append(
    h(
      "h2",
      {},
      h("a", { href: `#/storage/${encodeURIComponent(poolId)}` }, poolId),
      ...crumbs.flatMap((c, i) => [
        " / ",
        h("a", { href: `#/storage/${encodeURIComponent(poolId)}?path=${encodeURIComponent(crumbs.slice(0, i + 1).join("/"))}` }, c),
      ]),
    ),
    files,
  );
  try {
    const entries = await listFiles(poolId, path);
    replace(
      files,
      entries.length === 0
        ? h("p", {}, "This folder is empty.")
        : table(
            ["Name", "Size", "Type", "Modified", "Mode"],
            entries.map((f) => [
              f.isDirectory ? h("a", { href: `#/storage/${encodeURIComponent(poolId)}?path=${encodeURIComponent(f.path)}` }, `${f.name}/`) : f.name,
              f.isDirectory ? "" : bytes(f.sizeBytes),
              f.fileType ?? "",
              time(f.modifiedAt),
              f.permissions ?? "",
            ]),
          ),
    );
  } catch (e) {
    replace(files, h("p", { class: "error" }, (e as Error).message));
  }
}
