#!/usr/bin/env bash
# Installs and starts libvirtd with QEMU for the libvirt backend's real test tier (Debian 12,
# as root). Idempotent: safe to run again; it only starts what is not running yet.
# KVM is used when /dev/kvm works (with the host CPU, or without the CPU features a nested host
# cannot give a guest), QEMU's TCG otherwise. What it found goes to /run/limiquantix-libvirt.env
# for the real test tier: LIMIQUANTIX_REAL_DOMAIN_TYPE (kvm|qemu) and
# LIMIQUANTIX_REAL_CPU_DISABLED_FEATURES (comma-separated, for hypervisor.cpu_disabled_features).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-libvirt.sh: run as root (it installs packages and starts libvirtd)" >&2
  exit 1
fi

# The dir storage pool driver is part of libvirt-daemon on Debian 12; seabios and ipxe-qemu
# (BIOS and virtio NIC ROMs) are only recommended by qemu-system-x86, so they are named here.
PACKAGES=(libvirt0 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils seabios ipxe-qemu)
# The real tier's test guest (scripts/build-test-guest.sh): GRUB for BIOS and UEFI plus xorriso and
# mtools (grub-mkrescue), cpio and kmod (the initramfs and its modules), e2fsprogs (the guest's
# mke2fs), the libraries qemu-guest-agent links against (copied into the guest), and OVMF for a
# UEFI boot of the ISO.
PACKAGES+=(grub-pc-bin grub-common grub-efi-amd64-bin ovmf mtools cpio kmod xorriso e2fsprogs libglib2.0-0 libnuma1 liburing2 libudev1)
# NFS pools (test/libvirt-api/real-nfs.test.ts): a user-space NFSv4 server for the export
# (nfs-ganesha with its VFS backend), libnfs's client tools to check it, and mount.nfs for libvirt.
PACKAGES+=(nfs-ganesha nfs-ganesha-vfs libnfs-utils nfs-common)
missing=()
for p in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No recommends: they would pull in dnsmasq, firewalld and friends we do not need.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# What the Debian maintainer scripts would have set up on a normal (systemd) machine.
getent group kvm >/dev/null || groupadd --system kvm
getent group libvirt >/dev/null || groupadd --system libvirt
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
  useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/images /run/libvirt
if [ -e /dev/kvm ]; then
  chgrp kvm /dev/kvm || true
  chmod 0660 /dev/kvm || true
fi

# "Works" means a guest CPU can be set up: under some nested hypervisors /dev/kvm opens but
# QEMU aborts setting the host CPU's MSRs (nested AMD EPYC hosts: "failed to set MSR 0x10a",
# IA32_ARCH_CAPABILITIES). QEMU sets the vCPUs' registers while it builds the machine, before its
# monitor reads a command: one that answers "quit" (exit 0) got past that point, an abort did not.
# No time limit decides it (a 2 s "still alive" test passed a failing CPU on a loaded machine);
# the timeout only bounds a QEMU that hangs.
kvm_cpu_works() {
  local cpu=$1 rc
  # stderr of the subshell too: bash reports the abort there.
  rc=$(exec 2>/dev/null; echo quit | timeout 120 qemu-system-x86_64 -accel kvm -cpu "$cpu" -machine q35 -m 64 -nodefaults \
    -no-user-config -display none -S -monitor stdio >/dev/null; echo $?)
  [ "$rc" -eq 0 ]
}
# The host CPU as is first, then without the features such hosts advertise but cannot give a
# guest; the first set that works is what the daemon's hypervisor.cpu_disabled_features needs.
KVM_DISABLED_FEATURE_SETS=("" "arch-capabilities")
ENV_FILE=/run/limiquantix-libvirt.env
kvm_disabled=none
if [ -c /dev/kvm ]; then
  for features in "${KVM_DISABLED_FEATURE_SETS[@]}"; do
    cpu=host
    for f in ${features//,/ }; do cpu="$cpu,-$f"; done
    if kvm_cpu_works "$cpu"; then
      kvm_disabled=$features
      break
    fi
  done
fi
if [ "$kvm_disabled" = none ]; then
  echo "KVM: not usable for guests here, real-tier domains use TCG (domain type qemu, CPU model qemu64)"
  echo "LIMIQUANTIX_REAL_DOMAIN_TYPE=qemu" >"$ENV_FILE"
else
  if [ -z "$kvm_disabled" ]; then
    echo "KVM: works, real-tier domains use kvm with the host CPU"
  else
    echo "KVM: works with the host CPU minus: $kvm_disabled (set hypervisor.cpu_disabled_features: [$kvm_disabled] on this host)"
  fi
  {
    echo "LIMIQUANTIX_REAL_DOMAIN_TYPE=kvm"
    echo "LIMIQUANTIX_REAL_CPU_DISABLED_FEATURES=$kvm_disabled"
  } >"$ENV_FILE"
fi

# A bridge for the NIC hot-plug tests (no DHCP, no uplink: the guests have no OS anyway).
if ! ip link show lqtestbr0 >/dev/null 2>&1; then
  ip link add lqtestbr0 type bridge
fi
ip link set lqtestbr0 up

if ! pgrep -x virtlogd >/dev/null; then
  virtlogd -d
fi
if ! pgrep -x libvirtd >/dev/null; then
  libvirtd -d
fi

SOCK=/var/run/libvirt/libvirt-sock
up=""
for _ in $(seq 1 100); do
  if [ -S "$SOCK" ] && virsh -c qemu:///system version >/dev/null 2>&1; then
    up=yes
    break
  fi
  sleep 0.2
done
if [ -z "$up" ]; then
  echo "setup-libvirt.sh: libvirtd did not answer on $SOCK within 20 s" >&2
  exit 1
fi
virsh -c qemu:///system version | sed 's/^/  /'

# A libvirt network on the test bridge: the real tier's hypervisor.default_network (NICs the
# control plane creates name its network ids, which join the node's default network). A bridge
# network needs no dnsmasq.
NET=lqtest
if ! virsh -c qemu:///system net-info "$NET" >/dev/null 2>&1; then
  netxml=$(mktemp)
  printf "<network><name>%s</name><forward mode='bridge'/><bridge name='lqtestbr0'/></network>\n" "$NET" >"$netxml"
  virsh -c qemu:///system net-define "$netxml" >/dev/null
  rm -f "$netxml"
fi
state=$(virsh -c qemu:///system net-info "$NET")
grep -q "Active: *yes" <<<"$state" || virsh -c qemu:///system net-start "$NET" >/dev/null
virsh -c qemu:///system net-autostart "$NET" >/dev/null
echo "LIMIQUANTIX_REAL_NETWORK=$NET" >>"$ENV_FILE"
echo "libvirtd is up at qemu:///system (test network $NET on lqtestbr0)"
