// The UI's calls to its host: the session endpoints (/auth/*), the node API over the Connect
// protocol with JSON (/ui-api/<service>/<method>), and the few REST helpers. Plain fetch instead
// of @connectrpc/connect-web plus generated code: the JSON protocol is a POST per call and a
// 5-byte envelope per stream message, and the bundle stays a fraction of the size.

export const NODE = "limiquantix.node.v1.NodeDaemonService";

export interface Session {
  username: string;
  csrfToken: string;
  expiresAt: string;
}

let session: Session | undefined;
let onUnauthenticated: () => void = () => {};

export function currentSession(): Session | undefined {
  return session;
}

/** What to do when the daemon says the session is gone (expired, logged out elsewhere). */
export function whenUnauthenticated(fn: () => void): void {
  onUnauthenticated = fn;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (json) h["content-type"] = "application/json";
  if (session) h["x-csrf-token"] = session.csrfToken;
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; code?: string; message?: string; retryAfterSeconds?: number };
  if (res.status === 401 && session) {
    session = undefined;
    onUnauthenticated();
  }
  const code = body.code ?? body.error ?? `http_${res.status}`;
  return new ApiError(res.status, code, body.message ?? body.error ?? res.statusText, body.retryAfterSeconds);
}

export async function restoreSession(): Promise<Session | undefined> {
  const res = await fetch("/auth/session", { credentials: "same-origin" });
  session = res.ok ? ((await res.json()) as Session) : undefined;
  return session;
}

export async function login(username: string, password: string): Promise<Session> {
  const res = await fetch("/auth/login", { method: "POST", headers: headers(true), body: JSON.stringify({ username, password }) });
  if (!res.ok) throw await failure(res);
  session = (await res.json()) as Session;
  return session;
}

export async function logout(): Promise<void> {
  await fetch("/auth/logout", { method: "POST", headers: headers(false) }).catch(() => undefined);
  session = undefined;
}

/**
 * A JSON REST call of the UI listener (console tickets, history, registration token). GETs, and
 * POSTs the caller says may be repeated, are sent again after a network change (fetchRead).
 */
export async function rest<T>(method: "GET" | "POST", path: string, body?: unknown, repeatable = method === "GET"): Promise<T> {
  const res = await fetchRead(repeatable, path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** RPCs that only read: safe to send again. */
const READS = /^(Get|List|Ping|HealthCheck)/;

/**
 * fetch, sent again (twice at most) when a read fails before any answer: the browser aborts
 * requests in flight when the machine's network changes (Chromium's ERR_NETWORK_CHANGED; on the
 * host itself a VM's new tap device is one), and fetch then rejects with a TypeError. A call
 * that changes something is never repeated: it may have reached the daemon.
 */
async function fetchRead(read: boolean, url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (!read || attempt >= 2 || !(err instanceof TypeError)) throw err;
    }
  }
}

/** One unary RPC of the node API. */
export async function call<T = Record<string, unknown>>(method: string, request: object = {}, service = NODE): Promise<T> {
  const res = await fetchRead(READS.test(method), `/ui-api/${service}/${method}`, { method: "POST", headers: headers(true), body: JSON.stringify(request) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/**
 * A server-streaming RPC: calls onMessage for each message until the stream ends or the signal
 * aborts. Connect streaming frames every message as [flags:1][length:4 BE][JSON]; flag 0x02 marks
 * the end-of-stream frame, whose JSON carries the error if the call failed.
 */
export async function stream<T>(method: string, request: object, onMessage: (m: T) => void, signal: AbortSignal, service = NODE): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify(request));
  const framed = new Uint8Array(5 + body.length);
  new DataView(framed.buffer).setUint32(1, body.length);
  framed.set(body, 5);
  const res = await fetch(`/ui-api/${service}/${method}`, {
    method: "POST",
    headers: { ...headers(false), "content-type": "application/connect+json" },
    body: framed,
    signal,
  });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.getReader();
  let buf = new Uint8Array(0);
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    buf = joined;
    while (buf.length >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      if (buf.length < 5 + len) break;
      const flags = buf[0] ?? 0;
      const json = JSON.parse(decoder.decode(buf.subarray(5, 5 + len)) || "{}");
      buf = buf.slice(5 + len);
      if (flags & 0x02) {
        if (json.error) throw new ApiError(200, json.error.code ?? "unknown", json.error.message ?? "stream failed");
        return;
      }
      onMessage(json as T);
    }
  }
}

/** Keeps a stream open across disconnects (daemon restart, proxy timeout) until aborted. */
export function follow<T>(method: string, request: () => object, onMessage: (m: T) => void, signal: AbortSignal): void {
  void (async () => {
    while (!signal.aborted) {
      await stream(method, request(), onMessage, signal).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) throw e;
      });
      if (!signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  })().catch(() => undefined);
}
