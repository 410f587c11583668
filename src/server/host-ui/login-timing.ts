// Failed logins all take the same time, so the answer's timing does not tell a user name that
// exists from one that does not. PAM's own delays differ: /etc/pam.d/login's pam_faildelay asks
// for 3 s and pam_unix for 2 s, and libpam randomises the largest one by up to ±25 % (so
// 2.25-3.75 s), and an unknown user takes other code paths than a wrong password. Every failed
// attempt that reached PAM is therefore answered no earlier than FAILED_LOGIN_FLOOR_MS after it
// started, above PAM's longest delay. A success is answered at once.

export const FAILED_LOGIN_FLOOR_MS = 4_000;

/** How long to hold a failed login's answer so that it leaves floorMs after the attempt started. */
export function failedLoginHoldMs(startedAtMs: number, nowMs: number, floorMs: number = FAILED_LOGIN_FLOOR_MS): number {
  return Math.max(0, startedAtMs + floorMs - nowMs);
}

export interface LoginClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realLoginClock: LoginClock = { now: () => performance.now(), sleep: (ms) => Bun.sleep(ms) };

/** Runs an attempt; a failed answer (anything but 2xx) waits out the floor first. */
export async function withFailureFloor(
  attempt: () => Promise<Response>,
  clock: LoginClock = realLoginClock,
  floorMs: number = FAILED_LOGIN_FLOOR_MS,
): Promise<Response> {
  const started = clock.now();
  let res: Response;
  try {
    res = await attempt();
  } catch (err) {
    await clock.sleep(failedLoginHoldMs(started, clock.now(), floorMs));
    throw err;
  }
  if (!res.ok) await clock.sleep(failedLoginHoldMs(started, clock.now(), floorMs));
  return res;
}
