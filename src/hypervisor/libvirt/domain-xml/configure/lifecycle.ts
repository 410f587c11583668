// The on_* actions. A guest-initiated reboot restarts; a poweroff or crash stops the domain so
// the daemon sees the state change instead of a silent restart loop. (<clock> belongs to the
// guest_os profile: guest-os.ts.)

export function configureLifecycle(): { onPoweroff: string; onReboot: string; onCrash: string } {
  return {
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
  };
}
