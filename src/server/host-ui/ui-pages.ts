// The UI's pages and assets, with the listener's security headers. Bun builds an imported HTML
// file (and the scripts and styles it names) only for a `routes` entry of a Bun.serve, and such a
// route answers with Bun's headers alone: no Content-Security-Policy or X-Frame-Options can be
// added (oven-sh/bun#19123, #17595). HTMLBundle.files, the manifest that would let us serve the
// files ourselves, exists only for a bundle built ahead of time, not in `bun src/main.ts`. So the
// bundles are served by a second Bun.serve on a Unix socket in a private (0700) directory, which
// nobody else can reach, and the listener fetches from it and adds the headers (one hop on a
// local socket; the page and its hashed assets are a handful of requests per visit).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HTMLBundle } from "bun";

/** The inner server's answer for anything that is not part of a bundle. */
const NOT_A_PAGE = "x-lq-not-a-page";

/** Request headers passed on: conditional GETs keep working (304 for an unchanged ETag). */
const FORWARDED_REQUEST = ["if-none-match", "if-modified-since"];
/** Response headers kept from Bun's answer. */
const FORWARDED_RESPONSE = ["content-type", "etag", "cache-control", "last-modified"];

export interface UiPages {
  /** The page or asset at req's path (Bun's headers; the caller adds ours); undefined when no bundle has that path. */
  serve(req: Request): Promise<Response | undefined>;
  close(): Promise<void>;
}

/** Serves `pages` (path -> imported HTML) from a private Unix socket. */
export function createUiPages(pages: Record<string, HTMLBundle>): UiPages {
  const dir = mkdtempSync(join(tmpdir(), "limiquantix-ui-"));
  const socket = join(dir, "pages.sock");
  const inner = Bun.serve({
    unix: socket,
    development: false,
    routes: pages,
    fetch: () => new Response(null, { status: 404, headers: { [NOT_A_PAGE]: "1" } }),
  });
  return {
    async serve(req) {
      if (req.method !== "GET" && req.method !== "HEAD") return undefined;
      const url = new URL(req.url);
      const headers = new Headers();
      for (const h of FORWARDED_REQUEST) {
        const v = req.headers.get(h);
        if (v !== null) headers.set(h, v);
      }
      const res = await fetch(`http://ui.local${url.pathname}${url.search}`, { unix: socket, method: req.method, headers, decompress: false } as RequestInit);
      if (res.headers.has(NOT_A_PAGE)) {
        await res.body?.cancel();
        return undefined;
      }
      const out = new Headers();
      for (const h of FORWARDED_RESPONSE) {
        const v = res.headers.get(h);
        if (v !== null) out.set(h, v);
      }
      const body = req.method === "HEAD" || res.status === 304 ? null : await res.arrayBuffer();
      return new Response(body, { status: res.status, headers: out });
    },
    async close() {
      await inner.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
