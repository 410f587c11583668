// <clock> and the on_* actions. A guest-initiated reboot restarts; a poweroff or crash stops the
// domain so the daemon sees the state change instead of a silent restart loop.

import type { ClockDef } from "../model.ts";

export function configureLifecycle(): { clock: ClockDef; onPoweroff: string; onReboot: string; onCrash: string } {
  return {
    clock: {
      offset: "utc",
      timers: [
        { name: "rtc", tickpolicy: "catchup" },
        { name: "pit", tickpolicy: "delay" },
        { name: "hpet", present: "no" },
      ],
    },
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
  };
}
