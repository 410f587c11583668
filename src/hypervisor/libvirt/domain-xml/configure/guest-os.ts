// guest_os profiles: what a guest OS changes in the domain, one table row per profile (the
// control plane's contract, section 7.4): <clock> timers, the <video> model, and the Hyper-V
// enlightenments in <features>. Every profile keeps the RTC catching up and delays PIT ticks;
// an unknown or empty name is generic_linux.
//
// kvmclock and hypervclock are paravirtual clocks KVM provides, and the Hyper-V enlightenments
// are KVM's too: under TCG (domain type qemu, no /dev/kvm) QEMU does not emulate Hyper-V
// enlightenments well (most are KVM-only properties), so a TCG domain gets neither.
//
// Under KVM the enlightenments are limited to those the host offers (domain capabilities), when
// known: a kernel without KVM's Hyper-V emulation (CONFIG_KVM_HYPERV=n) refuses the others and
// QEMU exits at start ("kernel doesn't allow setting HyperV VP_INDEX"). A Windows guest runs
// without them, only slower.

import type { ConsoleType } from "../../../types.ts";
import type { ClockDef, HypervDef, TimerDef, VideoDef } from "../model.ts";

export type VideoModel = "vga" | "virtio" | "qxl";

export interface GuestOsProfile {
  hpet: boolean;
  kvmclock: boolean;
  hypervclock: boolean;
  video: VideoModel;
  hyperv: boolean;
}

/** KiB of video memory per model (libvirt's vram). */
export const VIDEO_VRAM_KIB: Record<VideoModel, number> = { vga: 16384, virtio: 32768, qxl: 65536 };

export const GENERIC_LINUX = "generic_linux";

const LINUX_VGA: GuestOsProfile = { hpet: false, kvmclock: true, hypervclock: false, video: "vga", hyperv: false };
const WINDOWS: GuestOsProfile = { hpet: true, kvmclock: false, hypervclock: true, video: "qxl", hyperv: true };

export const GUEST_OS_PROFILES: Readonly<Record<string, GuestOsProfile>> = Object.freeze({
  rhel: LINUX_VGA,
  fedora: LINUX_VGA,
  debian: { hpet: true, kvmclock: true, hypervclock: false, video: "virtio", hyperv: false },
  suse: { hpet: false, kvmclock: true, hypervclock: false, video: "virtio", hyperv: false },
  arch: { hpet: true, kvmclock: true, hypervclock: false, video: "virtio", hyperv: false },
  windows_server: WINDOWS,
  windows_desktop: WINDOWS,
  windows_legacy: { hpet: true, kvmclock: false, hypervclock: false, video: "vga", hyperv: false },
  freebsd: { hpet: true, kvmclock: false, hypervclock: false, video: "vga", hyperv: false },
  [GENERIC_LINUX]: LINUX_VGA,
});

/** The profile of a guest_os name; "" and unknown names are generic_linux. */
export function guestOsProfile(guestOs: string): GuestOsProfile {
  return (Object.hasOwn(GUEST_OS_PROFILES, guestOs) ? GUEST_OS_PROFILES[guestOs] : undefined) ?? GUEST_OS_PROFILES[GENERIC_LINUX]!;
}

/**
 * The Hyper-V block of the Windows profiles. The contract's list also names "reftime", which is
 * not a libvirt <hyperv> element (libvirt refuses the domain: "unsupported HyperV Enlightenment
 * feature: reftime"); Hyper-V's reference time counter is hv-time, which libvirt spells
 * <timer name='hypervclock'/> and the same profiles get.
 */
export const HYPERV_FEATURES: readonly string[] = [
  "relaxed",
  "vapic",
  "spinlocks",
  "vpindex",
  "runtime",
  "synic",
  "stimer",
  "reset",
  "frequencies",
  "tlbflush",
  "ipi",
];

/** What Windows' spinlock enlightenment is usually given: retry 8191 times before notifying. */
export const HYPERV_SPINLOCK_RETRIES = 8191;

/** Enlightenments that are only CPUID values: QEMU offers them even without KVM's Hyper-V emulation. */
const CPUID_ONLY: readonly string[] = ["spinlocks", "vendor_id"];

/**
 * `hypervOffered`: the enlightenments the host offers (DomainCapabilities.hypervFeatures);
 * undefined writes the profile's as they are.
 */
export function configureGuestOs(
  guestOs: string,
  domainType: string,
  console: ConsoleType,
  hypervOffered?: readonly string[],
): { clock: ClockDef; hyperv?: HypervDef; videos: VideoDef[] } {
  const profile = guestOsProfile(guestOs);
  const kvm = domainType === "kvm";
  // hv-time (the hypervclock timer) needs KVM's Hyper-V emulation like the MSR-based
  // enlightenments; libvirt lists no timer in its capabilities, so it goes with them.
  const hypervEmulation = hypervOffered === undefined || hypervOffered.some((f) => !CPUID_ONLY.includes(f));
  const timers: TimerDef[] = [
    { name: "rtc", tickpolicy: "catchup" },
    { name: "pit", tickpolicy: "delay" },
    { name: "hpet", present: profile.hpet ? "yes" : "no" },
  ];
  if (kvm && profile.kvmclock) timers.push({ name: "kvmclock", present: "yes" });
  if (kvm && profile.hypervclock && hypervEmulation) timers.push({ name: "hypervclock", present: "yes" });
  const out: { clock: ClockDef; hyperv?: HypervDef; videos: VideoDef[] } = {
    clock: { offset: "utc", timers },
    videos: console === "none" ? [] : [videoFor(profile.video, console)],
  };
  const enlightenments = HYPERV_FEATURES.filter((name) => hypervOffered === undefined || hypervOffered.includes(name));
  if (kvm && profile.hyperv && enlightenments.length > 0) {
    out.hyperv = {
      features: enlightenments.map((name) => (name === "spinlocks" ? { name, state: "on", retries: HYPERV_SPINLOCK_RETRIES } : { name, state: "on" })),
    };
  }
  return out;
}

/**
 * The profile's display. Under SPICE a plain VGA becomes QXL, SPICE's paravirtual display: QXL
 * starts in VGA mode, so a guest that runs on VGA runs on it too, and gains SPICE's acceleration.
 */
function videoFor(model: VideoModel, console: Exclude<ConsoleType, "none">): VideoDef {
  const chosen: VideoModel = console === "spice" && model === "vga" ? "qxl" : model;
  return { model: chosen, vram: VIDEO_VRAM_KIB[chosen], heads: 1, primary: "yes" };
}
