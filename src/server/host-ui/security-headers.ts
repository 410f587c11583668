// The headers every answer of the host UI listener carries, in one place (router.ts applies them
// to every route, start-https.ts to its fallback and error answers). Why each:
//   Content-Security-Policy: frame-ancestors 'none' (no clickjacking: no site may frame the UI),
//     default-src 'self' (the bundle loads nothing from elsewhere; no inline script), connect-src
//     also wss: (the console's WebSocket; CSP 2 browsers do not match wss: with 'self'), img-src
//     data:/blob: (noVNC draws its cursor from a data: URL). style-src stays 'self': uPlot and
//     noVNC style through the CSSOM (element.style), which CSP does not govern; the e2e test fails
//     on any CSP violation the browser reports.
//   X-Frame-Options DENY: the same for browsers without frame-ancestors. The one exception is
//     the console page (/ui/console), which the UI itself shows in an iframe: 'self'/SAMEORIGIN.
//   X-Content-Type-Options nosniff, Referrer-Policy no-referrer (tickets ride in query strings).
//   Cache-Control no-store: session, CSRF token and API answers are never cached. The bundle's
//     own answers (proxied by ui-pages.ts) keep Bun's caching: the page `no-cache` with an ETag,
//     hashed assets immutable.

/** Who may put the document in a frame: nobody, or the UI itself (its console page). */
export type Framing = "deny" | "same-origin";

export function contentSecurityPolicy(framing: Framing = "deny"): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self' wss:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    framing === "deny" ? "frame-ancestors 'none'" : "frame-ancestors 'self'",
  ].join("; ");
}

export function securityHeaders(framing: Framing = "deny"): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(framing),
    "x-frame-options": framing === "deny" ? "DENY" : "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

export interface SecurityOptions {
  /** "no-store" (API, auth, errors; the default) or "keep" the answer's own (the bundle). */
  cache?: "no-store" | "keep";
  /** "deny" (the default) or "same-origin" (the console page, framed by the UI). */
  framing?: Framing;
}

const HEADERS: Record<Framing, Record<string, string>> = { deny: securityHeaders("deny"), "same-origin": securityHeaders("same-origin") };

/** The response with the security headers set (a new Response when its headers are immutable). */
export function secured(res: Response, opts: SecurityOptions = {}): Response {
  const extra: Record<string, string> = { ...HEADERS[opts.framing ?? "deny"] };
  if ((opts.cache ?? "no-store") === "no-store") extra["cache-control"] = "no-store";
  try {
    for (const [k, v] of Object.entries(extra)) res.headers.set(k, v);
    return res;
  } catch {
    const headers = new Headers(res.headers);
    for (const [k, v] of Object.entries(extra)) headers.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

type Handler = (...args: never[]) => unknown;

/** A route handler whose answers (sync or async; undefined = a WebSocket upgrade) are secured. */
export function securedHandler<H extends Handler>(handler: H, opts: SecurityOptions = {}): H {
  const wrap = (r: unknown) => (r instanceof Response ? secured(r, opts) : r);
  return ((...args: Parameters<H>) => {
    const out = handler(...args);
    return out instanceof Promise ? out.then(wrap) : wrap(out);
  }) as H;
}
