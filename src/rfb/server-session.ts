// One RFB server connection as a state machine over bytes, with no socket and no clock: the
// handshake (versions 3.3, 3.7 and 3.8, security type None only), the client's pixel format,
// and the update requests the transport answers. Tested by feeding it byte fixtures.

import {
  type ClientMessage,
  encodeSecurityResult,
  encodeSecurityTypes,
  encodeServerInit,
  PIXEL_FORMAT_XRGB32,
  type PixelFormat,
  parseClientMessage,
  parseProtocolVersion,
  RFB_VERSION_3_8,
  RfbProtocolError,
  SECURITY_NONE,
  type ServerInit,
} from "./messages.ts";

export type UpdateRequest = Extract<ClientMessage, { type: "update_request" }>;

export interface ReceiveResult {
  /** Bytes to send back now, in order (handshake replies). */
  replies: Uint8Array[];
  /** Update requests that arrived, in order. */
  requests: UpdateRequest[];
}

export interface RfbServerSession {
  /** The server's first bytes (its protocol version). */
  greeting(): Uint8Array;
  /** Bytes from the client; throws RfbProtocolError on bytes no client may send. */
  receive(bytes: Uint8Array): ReceiveResult;
  /** Past the handshake: updates may be sent. */
  readonly ready: boolean;
  /** The format the client asked for (the server's own until it asks). */
  readonly pixelFormat: PixelFormat;
}

/** Bytes a client may leave unparsed (a cut text of up to 1 MiB plus a margin). */
const MAX_PENDING = (1 << 20) + 64;

type Phase = "version" | "security" | "client_init" | "normal";

export function createRfbServerSession(init: Omit<ServerInit, "pixelFormat">): RfbServerSession {
  let phase: Phase = "version";
  let minor = 8;
  let pixelFormat = PIXEL_FORMAT_XRGB32;
  let pending: Uint8Array = new Uint8Array(0);

  function take(n: number): Uint8Array {
    const head = pending.subarray(0, n);
    pending = pending.subarray(n);
    return head;
  }

  return {
    greeting: () => new TextEncoder().encode(RFB_VERSION_3_8),
    get ready() {
      return phase === "normal";
    },
    get pixelFormat() {
      return pixelFormat;
    },
    receive(bytes) {
      pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
      if (pending.length > MAX_PENDING) throw new RfbProtocolError(`the client sent ${pending.length} bytes that make no complete message`);
      const replies: Uint8Array[] = [];
      const requests: UpdateRequest[] = [];
      for (;;) {
        if (phase === "version") {
          const v = parseProtocolVersion(pending);
          if (!v) break;
          take(12);
          if (v.major !== 3) throw new RfbProtocolError(`RFB version ${v.major}.${v.minor} is not supported (3.3 to 3.8)`);
          // Unknown minors between 3.3 and 3.8 (3.5, 3.6) are to be taken as 3.3 (RFC 6143 7.1.1).
          minor = v.minor >= 8 ? 8 : v.minor === 7 ? 7 : 3;
          if (minor === 3) {
            replies.push(Uint8Array.of(0, 0, 0, SECURITY_NONE));
            phase = "client_init";
          } else {
            replies.push(encodeSecurityTypes([SECURITY_NONE]));
            phase = "security";
          }
        } else if (phase === "security") {
          if (pending.length < 1) break;
          const chosen = take(1)[0];
          if (chosen !== SECURITY_NONE) throw new RfbProtocolError(`the client chose security type ${chosen}; only None (1) is offered`);
          // 3.7 sends no SecurityResult for None; 3.8 does.
          if (minor === 8) replies.push(encodeSecurityResult(true));
          phase = "client_init";
        } else if (phase === "client_init") {
          if (pending.length < 1) break;
          take(1); // shared-flag: every client shares this screen anyway
          replies.push(encodeServerInit({ ...init, pixelFormat: PIXEL_FORMAT_XRGB32 }));
          phase = "normal";
        } else {
          const parsed = parseClientMessage(pending);
          if (!parsed) break;
          take(parsed.length);
          const m = parsed.message;
          if (m.type === "set_pixel_format") {
            if (!m.pixelFormat.trueColour) throw new RfbProtocolError("colour-map pixel formats are not supported; ask for true colour");
            pixelFormat = m.pixelFormat;
          } else if (m.type === "update_request") {
            requests.push(m);
          }
        }
      }
      // A copy, so the caller's buffer can be reused once this returns.
      if (pending.length > 0 && pending.buffer === bytes.buffer) pending = pending.slice();
      return { replies, requests };
    },
  };
}
