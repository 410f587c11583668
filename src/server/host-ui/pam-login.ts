// The API thread's side of PAM: starts a PAM Worker per attempt, with a cap on attempts in
// flight (each holds a thread for seconds on a wrong password) and a deadline.

import { isCompiledBinary } from "../../hypervisor/libvirt/worker-paths.ts";
import type { PamReply, PamRequest } from "./pam-protocol.ts";

export const PAM_WORKER_FILE = "pam-worker.ts";

/** From source beside this module; in the compiled binary relative to src/ (see worker-paths.ts). */
export function pamWorkerPath(compiled = isCompiledBinary()): string {
  if (compiled) return `./server/host-ui/${PAM_WORKER_FILE}`;
  return new URL(`./${PAM_WORKER_FILE}`, import.meta.url).pathname;
}

export type PamCheck = (req: PamRequest) => Promise<PamReply>;

export interface PamLoginOptions {
  /** Attempts in flight at once; beyond it, answered busy at once. */
  maxConcurrent?: number;
  timeoutMs?: number;
  workerPath?: string;
}

export class PamBusyError extends Error {}

export function createPamCheck(opts: PamLoginOptions = {}): PamCheck {
  const max = opts.maxConcurrent ?? 8;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const path = opts.workerPath ?? pamWorkerPath();
  let inFlight = 0;
  return (req) => {
    if (inFlight >= max) return Promise.reject(new PamBusyError(`${max} logins are being checked already; try again in a few seconds`));
    inFlight++;
    const worker = new Worker(path);
    return new Promise<PamReply>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, error: `PAM did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
      worker.onmessage = (e: MessageEvent<PamReply>) => {
        clearTimeout(timer);
        resolve(e.data);
      };
      worker.onerror = (e) => {
        clearTimeout(timer);
        resolve({ ok: false, error: `the PAM worker failed: ${e.message}` });
      };
      worker.postMessage(req);
    }).finally(() => {
      inFlight--;
      worker.terminate();
    });
  };
}
