#!/usr/bin/env bash
# Builds the real tier's test guest: a bootable ISO (GRUB, BIOS) holding a Debian kernel and an
# initramfs with busybox as init, qemu-guest-agent, and the Quantix test agent
# (test/guest/agent, compiled with `bun build --compile`). Everything comes from Debian packages
# (unpacked with dpkg-deb, never installed) and from this repository.
#
# Cached outside the clone, keyed by a hash of its inputs (this script, the agent's sources, the
# packages' versions, Bun's version): $LQ_GUEST_CACHE/<hash>/ (default
# ~/.cache/limiquantix/guest) holds guest.iso and guest.env (KERNEL_VERSION=..., ISO=...). A
# second run with the same inputs only computes the hash. Prints the folder on stdout.
# Reproducible: mtime 0, sorted cpio, gzip -n, SOURCE_DATE_EPOCH for xorriso.
#
# The guest (what the real tier relies on):
# - /init (busybox ash, PID 1) loads the virtio, SATA CD-ROM, ext4 and ACPI modules; mounts the
#   NoCloud CD-ROM labelled cidata and sets the hostname from its meta-data/user-data
#   (local-hostname / hostname) and the first address of its network-config on the first NIC;
#   formats /dev/vda as ext4 when it has no filesystem and mounts it on /mnt/data.
# - busybox acpid runs /etc/acpi/PWRF/00000080 on the ACPI power button: poweroff.
# - qemu-ga on org.qemu.guest_agent.0, with guest-shutdown disabled so that libvirt's plain
#   virDomainShutdown falls back to the ACPI power button (it prefers an answering qemu-ga); its
#   fsfreeze hook appends "qemu-ga freeze" / "qemu-ga thaw" to /run/fsfreeze.log.
# - /bin/quantix-agent on org.quantix.agent.0, restarted if it exits, unless /run/quantix-agent.off
#   exists; its log is /var/log/quantix-agent.log.
# - Power events are appended to /mnt/data/power.log (survives a reboot and a power cycle).
#
# Env: KPKG (kernel metapackage, default linux-image-amd64: the cloud flavour has no AHCI, so it
#      cannot see a SATA CD-ROM), LQ_GUEST_CACHE. Needs root for apt-get (missing host tools).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$PATH"
KPKG=${KPKG:-linux-image-amd64}
CACHE=${LQ_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/limiquantix/guest}
DEBS=${LQ_DEB_CACHE:-$(dirname "$CACHE")/debs}
log() { echo "[build-test-guest] $*" >&2; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# ---------------------------------------------------------------- host tools
# tool:package. The libraries are what qemu-ga links against: ldd resolves them here and they
# are copied into the image.
need=()
for entry in cpio:cpio mke2fs:e2fsprogs /usr/lib/grub/x86_64-efi/modinfo.sh:grub-efi-amd64-bin depmod:kmod grub-mkrescue:grub-common xorriso:xorriso mformat:mtools \
             /usr/lib/grub/i386-pc/modinfo.sh:grub-pc-bin \
             /usr/lib/x86_64-linux-gnu/libglib-2.0.so.0:libglib2.0-0 /usr/lib/x86_64-linux-gnu/libnuma.so.1:libnuma1 \
             /usr/lib/x86_64-linux-gnu/liburing.so.2:liburing2 /usr/lib/x86_64-linux-gnu/libudev.so.1:libudev1; do
  tool=${entry%%:*} pkg=${entry#*:}
  if [[ $tool == /* ]]; then [ -e "$tool" ] && continue; else command -v "$tool" >/dev/null && continue; fi
  need+=("$pkg")
done
# Package lists may be stored compressed (..._Packages.lz4 in Debian's container images).
have_lists() { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "missing host packages: ${need[*]} (run as root, or: apt-get install ${need[*]})"; exit 1; }
  log "installing host tools: ${need[*]}"
  have_lists || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
have_lists || apt-get update -qq

# ---------------------------------------------------------------- inputs and their hash
KIMG=$(apt-cache depends "$KPKG" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KIMG" ] || { log "cannot resolve the kernel package behind $KPKG (apt-get update?)"; exit 1; }
# One apt-cache run for every candidate version: each run rebuilds apt's cache from the lists
# where the cache is off (Debian's container images), seconds on a busy machine.
declare -A VER
while read -r p v; do VER[$p]=$v; done < <(apt-cache policy "$KIMG" busybox-static qemu-guest-agent | awk '/^[^ ]/{p=$1; sub(/:$/, "", p)} /Candidate:/{print p, $2}')
for p in "$KIMG" busybox-static qemu-guest-agent; do
  [ -n "${VER[$p]:-}" ] && [ "${VER[$p]}" != "(none)" ] || { log "no candidate version of $p (apt-get update?)"; exit 1; }
done
AGENT_SOURCES=(test/guest/agent/*.ts src/agent/framing.ts src/gen/limiquantix/agent/v1/agent_pb.ts package-lock.json)
HOST_LIBS=$(dpkg-query -W -f '${Package}=${Version}\n' libc6 libglib2.0-0 libnuma1 liburing2 libudev1 libpcre2-8-0 libffi8 libselinux1 e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1 2>/dev/null | sort || true)
HASH=$({
  sha256sum "$0" "${AGENT_SOURCES[@]}"
  for p in "$KIMG" busybox-static qemu-guest-agent; do echo "$p=${VER[$p]}"; done
  echo "$HOST_LIBS"
  echo "bun=$(bun --revision)"
  grub-mkrescue --version; xorriso -version 2>/dev/null | head -1
} | sha256sum | cut -c1-16)
OUT=$CACHE/$HASH
if [ -f "$OUT/guest.iso" ] && [ -f "$OUT/guest.env" ]; then
  log "cached: $OUT"
  echo "$OUT"
  exit 0
fi

# ---------------------------------------------------------------- packages
mkdir -p "$DEBS" "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lq-guest-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fetch_deb() {  # fetch_deb PKG -> path of the cached .deb of its candidate version
  local pkg=$1 ver=${VER[$1]} f
  f=$(ls "$DEBS/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    log "downloading $pkg $ver"
    # As root apt downloads as _apt, which cannot write into a folder under /root: fetch in the
    # work folder, then move.
    (cd "$WORK" && chmod 777 . && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) || { log "apt-get download $pkg=$ver failed"; exit 1; }
    mv "$WORK/${pkg}_"*.deb "$DEBS/"
    f=$(ls "$DEBS/${pkg}_${ver//:/%3a}_"*.deb | head -1)
  fi
  echo "$f"
}
X=$WORK/x
for p in "$KIMG" busybox-static qemu-guest-agent; do
  mkdir -p "$X/$p"
  dpkg-deb -x "$(fetch_deb "$p")" "$X/$p"
done
K=$X/$KIMG BB=$X/busybox-static/bin/busybox QGA=$X/qemu-guest-agent/usr/sbin/qemu-ga
KVER=$(ls "$K/lib/modules" | head -1)
depmod -b "$K" "$KVER"

# ---------------------------------------------------------------- the agent
log "bun build --compile test/guest/agent/main.ts"
bun build --compile test/guest/agent/main.ts --outfile "$WORK/quantix-agent" >/dev/null

# ---------------------------------------------------------------- rootfs
R=$WORK/rootfs
mkdir -p "$R"/{bin,sbin,dev,proc,sys,run,tmp,root,mnt/data,etc/acpi/PWRF,lib/modules/$KVER,var/log,var/lib}
ln -s ../run "$R/var/run"
ln -s ../proc/mounts "$R/etc/mtab"
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || [ "$a" = mke2fs ] || ln -sf busybox "$R/bin/$a"; done
for a in poweroff reboot halt modprobe acpid; do ln -sf ../bin/busybox "$R/sbin/$a"; done

# Modules: the closure of what the guest needs, from modules.dep.
# crc32c: ext4 and jbd2 only name it as a soft dependency (metadata checksums), which busybox
# modprobe does not follow.
MODS="virtio_pci virtio_console virtio_blk virtio_net virtio_balloon ahci sr_mod isofs crc32c_generic ext4 button evdev"
M=$K/lib/modules/$KVER
for m in $MODS; do
  for ko in $(modprobe -d "$K" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
    rel=${ko#"$M"/}
    mkdir -p "$R/lib/modules/$KVER/$(dirname "$rel")"
    cp "$ko" "$R/lib/modules/$KVER/$rel"
  done
done
cp "$M"/modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$KVER/"
depmod -b "$R" "$KVER"
echo "$MODS" >"$R/etc/modules"

copy_libs() {  # copy_libs BINARY: its ldd closure and the loader
  ldd "$1" | awk '$2=="=>" && $3 ~ /^\//{print $3} $1 ~ /^\/.*ld-linux/{print $1}' | while read -r l; do
    mkdir -p "$R$(dirname "$l")"
    cp -L "$l" "$R$l"
  done
}
cp "$QGA" "$R/sbin/qemu-ga"
copy_libs "$QGA"
# The agent (a 100 MiB `bun build --compile` binary) stays out of the initramfs, on the CD itself:
# GRUB reads the initramfs through the BIOS, at about 1 MB/s from a SATA CD-ROM under KVM,
# while Linux's own AHCI driver reads the CD at disk speed.
copy_libs "$WORK/quantix-agent"
# busybox's mke2fs makes only ext2, which cannot be frozen: e2fsprogs' from this host.
cp /sbin/mke2fs "$R/sbin/mke2fs"
copy_libs /sbin/mke2fs
cp /etc/mke2fs.conf "$R/etc/mke2fs.conf"
if [ -e "$R/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] && [ ! -e "$R/lib64/ld-linux-x86-64.so.2" ]; then
  mkdir -p "$R/lib64"; ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$R/lib64/ld-linux-x86-64.so.2"
fi

cat >"$R/etc/os-release" <<'EOF'
NAME="Quantix test guest"
ID=quantix-test
VERSION_ID=1
EOF
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "root:x:0:" >"$R/etc/group"
echo "127.0.0.1 localhost" >"$R/etc/hosts"

cat >"$R/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "acpi power button" >>/run/power-reason
exec /sbin/poweroff
EOF
# qemu-ga's guest-shutdown runs /sbin/shutdown (disabled below; kept for a manual qemu-ga run).
cat >"$R/sbin/shutdown" <<'EOF'
#!/bin/sh
echo "qemu-ga shutdown $*" >>/run/power-reason
for a in "$@"; do case "$a" in -r) exec /sbin/reboot;; -H|--halt) exec /sbin/halt;; esac; done
exec /sbin/poweroff
EOF
# qemu-ga runs this before it freezes the guest's filesystems and after it thaws them: the
# guest's own record of a freeze through qemu-ga (/run is tmpfs, never frozen).
mkdir -p "$R/etc/qemu"
cat >"$R/etc/qemu/fsfreeze-hook" <<'EOF'
#!/bin/sh
echo "$(cut -d' ' -f1 /proc/uptime) qemu-ga $1" >>/run/fsfreeze.log
EOF
chmod 755 "$R/etc/acpi/PWRF/00000080" "$R/sbin/shutdown" "$R/etc/qemu/fsfreeze-hook"

cat >"$R/init" <<'EOF'
#!/bin/sh
# PID 1 of the Quantix test guest (busybox ash). busybox's poweroff/reboot/halt signal PID 1:
# USR1 (halt) and USR2 power off, TERM reboots, so this script must stay alive and trap them.
export PATH=/bin:/sbin HOME=/root
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/virtio-ports /run/cidata && mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/cidata
say() { echo "test-guest: $*"; echo "$(cut -d' ' -f1 /proc/uptime) $*" >>/run/init.log; }
say "init, uptime $(cut -d' ' -f1 /proc/uptime)"
modprobe -a $(cat /etc/modules) || say "modprobe failed"
ip link set lo up

# /dev/virtio-ports/<name> (udev's job). Port registration is asynchronous and, on a crowded
# host under TCG, can come long after init starts: init waits a while, and each agent's restart
# loop links again before it starts its agent, so a late port is picked up whenever it comes.
link_ports() {
  for d in /sys/class/virtio-ports/vport*; do
    [ -r "$d/name" ] || continue
    n=$(cat "$d/name"); [ -n "$n" ] && [ ! -e "/dev/virtio-ports/$n" ] && ln -s "../${d##*/}" "/dev/virtio-ports/$n"
  done
}
for i in $(seq 600); do
  link_ports
  [ -e /dev/virtio-ports/org.quantix.agent.0 ] && [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && break
  sleep 0.05
done
say "virtio ports: $(ls /dev/virtio-ports | tr '\n' ' ')"

# The CD-ROMs: the one this guest booted from (it holds the agent) and the NoCloud one (cidata).
# Probed until both are there (cidata is optional after 3 s); the agent's loop probes again
# while the boot CD is missing, so a CD-ROM that shows up late still brings the agent.
mkdir -p /run/boot-cd /run/probe
mount_cds() {
  for dev in /dev/sr*; do
    [ -b "$dev" ] && ! grep -q "^$dev " /proc/mounts || continue
    mount -t iso9660 -o ro "$dev" /run/probe 2>/dev/null || continue
    if [ -f /run/probe/quantix/quantix-agent ]; then to=/run/boot-cd
    elif [ -f /run/probe/meta-data ] || [ -f /run/probe/user-data ]; then to=/run/cidata
    else to=; fi
    umount /run/probe
    [ -n "$to" ] && mount -t iso9660 -o ro "$dev" "$to" && say "$dev on $to"
  done
}
for i in $(seq 600); do
  mount_cds
  [ -f /run/boot-cd/quantix/quantix-agent ] && { [ -f /run/cidata/meta-data ] || [ $i -ge 30 ]; } && break
  sleep 0.1
done
[ -f /run/boot-cd/quantix/quantix-agent ] || say "no boot CD with the agent yet (block devices: $(ls /sys/block | tr '\n' ' '))"
field() { [ -f "$2" ] && sed -n "s/^$1: *//p" "$2" | head -1 | tr -d "\"'" ; }
name=$(field hostname /run/cidata/user-data)
[ -n "$name" ] || name=$(field local-hostname /run/cidata/meta-data)
hostname "${name:-quantix-test-guest}"
# network-config: the first "addresses: [a.b.c.d/n" (v2) or "address: a.b.c.d/n" (v1).
addr=$(sed -n 's/.*addresses: *\[ *\([0-9.]*\/[0-9]*\).*/\1/p; s/.*address: *\([0-9.]*\/[0-9]*\).*/\1/p' /run/cidata/network-config 2>/dev/null | head -1)
nic=$(ls /sys/class/net | grep -v '^lo$' | head -1)
if [ -n "$nic" ]; then
  ip link set "$nic" up
  [ -n "$addr" ] && ip addr add "$addr" dev "$nic" && say "$nic $addr"
fi

# The data disk: the first virtio disk (the daemon puts disks on virtio unless told otherwise),
# formatted on first boot. Errors go to /run/init.log, which the host can read through the agent.
for i in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
if [ -b /dev/vda ]; then
  mkdir -p /mnt/data
  if ! mount -t ext4 /dev/vda /mnt/data 2>>/run/init.log; then
    say "no ext4 on /dev/vda: formatting it"
    # The full path: Debian's busybox ash runs its own applet (ext2 only) for a bare "mke2fs".
    /sbin/mke2fs -q -F -t ext4 -L data /dev/vda >>/run/init.log 2>&1 && say "formatted /dev/vda" || say "mke2fs failed ($?)"
    mount -t ext4 /dev/vda /mnt/data 2>>/run/init.log || say "mount /dev/vda failed"
  fi
  grep -q " /mnt/data " /proc/mounts && say "/dev/vda on /mnt/data"
else
  say "no /dev/vda (disks: $(ls /sys/block | tr '\n' ' '))"
fi
power_log() { [ -d /mnt/data/lost+found ] && echo "$(date -u +%FT%TZ) $*" >>/mnt/data/power.log; }
power_log "boot $(cat /proc/sys/kernel/random/boot_id)"

acpid -c /etc/acpi -l /run/acpid.log
( while :; do
    link_ports
    qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run -b guest-shutdown -l /run/qemu-ga.log \
      -F/etc/qemu/fsfreeze-hook
    sleep 1
  done ) &
# /run/quantix-agent.off (a test's switch) keeps the Quantix agent down: qemu-ga alone answers.
( while :; do
    if [ -e /run/quantix-agent.off ]; then sleep 0.2; continue; fi
    link_ports
    [ -f /run/boot-cd/quantix/quantix-agent ] || mount_cds
    /run/boot-cd/quantix/quantix-agent; say "quantix-agent exited with $?"; sleep 1
  done ) &

down() {
  power_log "$1 ($(cat /run/power-reason 2>/dev/null | tr '\n' ' '))"
  say "$1"
  sync
  umount /mnt/data 2>/dev/null
  if [ "$1" = reboot ]; then reboot -f; else poweroff -f; fi
}
# busybox halt/poweroff/reboot send USR1/USR2/TERM to PID 1; the kernel sends INT on ctrl-alt-del.
trap 'down poweroff' USR1 USR2
trap 'down reboot' TERM INT
say "ready, uptime $(cut -d' ' -f1 /proc/uptime)"
while :; do sleep 3600 & wait $!; done
EOF
chmod 755 "$R/init"

IMG=$WORK/iso/boot
mkdir -p "$IMG/grub" "$WORK/iso/quantix"
cp "$WORK/quantix-agent" "$WORK/iso/quantix/quantix-agent"
cp "$K/boot/vmlinuz-$KVER" "$IMG/vmlinuz"
find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 --reproducible | gzip -6 -n >"$IMG/initrd.gz")
cat >"$IMG/grub/grub.cfg" <<'EOF'
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "Quantix test guest" {
  linux /boot/vmlinuz console=ttyS0 quiet
  initrd /boot/initrd.gz
}
EOF
find "$WORK/iso" -exec touch -h -d @0 {} +
mkdir -p "$OUT.tmp"
log "grub-mkrescue"
SOURCE_DATE_EPOCH=0 grub-mkrescue -o "$OUT.tmp/guest.iso" "$WORK/iso" -- -volid QUANTIX_TEST >/dev/null 2>"$WORK/mkrescue.log" || { cat "$WORK/mkrescue.log" >&2; exit 1; }
{
  echo "KERNEL_VERSION=$KVER"
  echo "KERNEL_PACKAGE=$KIMG=${VER[$KIMG]}"
  echo "BUSYBOX=${VER[busybox-static]}"
  echo "QEMU_GA=${VER[qemu-guest-agent]}"
  echo "ISO=$OUT/guest.iso"
  echo "INITRD_BYTES=$(stat -c %s "$IMG/initrd.gz")"
} >"$OUT.tmp/guest.env"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
# Older builds (other inputs) are dropped but for the newest few, so the cache stays bounded
# (each image is ~130 MiB) while another clone's inputs may still find theirs.
ls -1dt "$CACHE"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
log "built $OUT/guest.iso ($(du -h "$OUT/guest.iso" | cut -f1), kernel $KVER)"
echo "$OUT"
