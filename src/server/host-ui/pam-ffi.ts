// libpam through bun:ffi: one conversation (pam_start, pam_authenticate, pam_acct_mgmt, pam_end)
// that answers PAM's prompts with the given name and password. Blocking (pam_unix waits ~2-3 s
// after a wrong password): call it only from the PAM Worker (pam-worker.ts), never the API thread.
//
// Memory rules of the conversation (Linux-PAM, pam_conv(3)): PAM frees the response array and
// every response string with free(), so both come from libc (calloc, strdup); the message
// array is `const struct pam_message **` (Linux-PAM's layout: an array of pointers).

import { dlopen, FFIType, JSCallback, ptr, read, toArrayBuffer } from "bun:ffi";

export const PAM_SUCCESS = 0;
const PAM_CONV_ERR = 19;
const PAM_RHOST = 4;
const PAM_PROMPT_ECHO_OFF = 1;
const PAM_PROMPT_ECHO_ON = 2;
/** sizeof(struct pam_message) and sizeof(struct pam_response) on LP64: int, padding, pointer. */
const PAM_RESPONSE_SIZE = 16;

export interface PamOutcome {
  /** Which call ended the conversation: "start", "authenticate", "account" or "done" (success). */
  stage: "start" | "authenticate" | "account" | "done";
  /** PAM's return code of that call (0 = PAM_SUCCESS). */
  code: number;
  /** pam_strerror's text for the code. */
  message: string;
}

function openLibraries() {
  const pam = dlopen("libpam.so.0", {
    pam_start: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    pam_set_item: { args: [FFIType.ptr, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    pam_authenticate: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    pam_acct_mgmt: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    pam_end: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    pam_strerror: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.cstring },
  });
  const libc = dlopen("libc.so.6", {
    calloc: { args: [FFIType.u64, FFIType.u64], returns: FFIType.ptr },
    strdup: { args: [FFIType.ptr], returns: FFIType.ptr },
  });
  return { pam, libc };
}

const cString = (s: string) => Buffer.from(`${s}\0`, "utf8");

/**
 * Runs one PAM conversation. `rhost` (the browser's address) goes to PAM_RHOST so pam modules
 * and the auth log name the remote host.
 */
export function pamLogin(service: string, username: string, password: string, rhost: string): PamOutcome {
  const { pam, libc } = openLibraries();
  const userC = cString(username);
  const passwordC = cString(password);
  const conversation = new JSCallback(
    (count: number, messages: number, responses: number): number => {
      if (count <= 0 || count > 32 || !messages || !responses) return PAM_CONV_ERR;
      const array = libc.symbols.calloc(BigInt(count), BigInt(PAM_RESPONSE_SIZE));
      if (!array) return PAM_CONV_ERR;
      const view = new DataView(toArrayBuffer(array, 0, count * PAM_RESPONSE_SIZE));
      for (let i = 0; i < count; i++) {
        const message = read.ptr(messages, i * 8);
        const style = read.i32(message, 0);
        // Info and error texts (PAM_TEXT_INFO, PAM_ERROR_MSG) take no answer: their response stays NULL.
        const answer = style === PAM_PROMPT_ECHO_OFF ? passwordC : style === PAM_PROMPT_ECHO_ON ? userC : undefined;
        if (answer) view.setBigUint64(i * PAM_RESPONSE_SIZE, BigInt(libc.symbols.strdup(ptr(answer)) ?? 0), true);
      }
      new DataView(toArrayBuffer(responses, 0, 8)).setBigUint64(0, BigInt(array), true);
      return PAM_SUCCESS;
    },
    { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32, threadsafe: false },
  );
  // struct pam_conv { conv, appdata_ptr }: must stay alive for the whole conversation.
  const conv = new BigUint64Array([BigInt(conversation.ptr ?? 0), 0n]);
  const handleOut = new BigUint64Array(1);
  const serviceC = cString(service);
  const rhostC = cString(rhost);
  let handle = 0;
  let last = PAM_SUCCESS;
  const outcome = (stage: PamOutcome["stage"], code: number): PamOutcome => {
    last = code;
    return { stage, code, message: String(pam.symbols.pam_strerror(handle || null, code) ?? `PAM error ${code}`) };
  };
  try {
    const started = pam.symbols.pam_start(ptr(serviceC), ptr(userC), ptr(conv), ptr(handleOut));
    handle = Number(handleOut[0]);
    if (started !== PAM_SUCCESS || !handle) return outcome("start", started);
    pam.symbols.pam_set_item(handle, PAM_RHOST, ptr(rhostC));
    const auth = pam.symbols.pam_authenticate(handle, 0);
    if (auth !== PAM_SUCCESS) return outcome("authenticate", auth);
    // Expired accounts and passwords, nologin: the account stack says no even with a right password.
    const account = pam.symbols.pam_acct_mgmt(handle, 0);
    if (account !== PAM_SUCCESS) return outcome("account", account);
    return outcome("done", PAM_SUCCESS);
  } finally {
    // pam_end hands the last status to the modules' clean-up functions.
    if (handle) pam.symbols.pam_end(handle, last);
    passwordC.fill(0);
    conversation.close();
    pam.close();
    libc.close();
  }
}
