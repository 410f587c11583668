#!/usr/bin/env bash
# Two independent libvirt "hosts" on this machine for the real tier's migration tests: each in
# its own mount + UTS + network namespace (held by a sleeping process), joined by a veth pair
# that exists only inside the two namespaces, with private /etc/libvirt, /run/libvirt,
# /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /etc/hosts, its own virtlogd and
# libvirtd (pid files under $BASE, never the shared defaults), a distinct host_uuid, libvirt's
# TCP listener on its veth address, and QEMU's migration address on it too.
#
#   two-libvirt-hosts.sh up            (tears down leftovers of a run that died first)
#   two-libvirt-hosts.sh down          idempotent; safe when nothing or half of it is up
#   two-libvirt-hosts.sh run CMD...    up, CMD, and down whatever happens (trap)
#   two-libvirt-hosts.sh status | holder A|B | uri A|B | virsh A|B ARGS... | exec A|B CMD...
#   two-libvirt-hosts.sh nbd-start IMAGE | nbd-stop     qemu-nbd: a disk both hosts reach
#
# Each host has a bridge lq14c-br0 for guests' NICs (no uplink). Each host also gets a private folder bind-mounted on the same path ($BASE/private): one path
# for storage, agent sockets and state on both hosts, as on real hosts, but different files
# (a disk there is "local" storage that a migration must copy).
#
# Nothing of the system libvirt is touched: every libvirt path is a bind mount inside the
# host's mount namespace, and qemu.conf disables cgroups (cgroupfs is not namespaced here; two
# hosts' QEMUs would collide in one cgroup). Knobs (env): LQ14C_BASE (default
# /tmp/lq14c-hosts), LQ14C_NO_KVM=1 (hide /dev/kvm from both hosts: TCG, as on hosts without KVM).
set -euo pipefail

BASE=${LQ14C_BASE:-/tmp/lq14c-hosts}
HOSTS=(A B)
declare -A NAME=([A]=lq14c-a [B]=lq14c-b)
declare -A ADDR=([A]=10.77.14.1 [B]=10.77.14.2)
declare -A IFACE=([A]=lq14c-mig-a [B]=lq14c-mig-b)
declare -A UUID=([A]=1a14c000-0000-4000-8000-00000000000a [B]=1a14c000-0000-4000-8000-00000000000b)
LIBVIRT_DIRS=(/etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt)
NO_KVM=${LQ14C_NO_KVM:-0}
NBD_SOCK=$BASE/shared/nbd.sock
NBD_PID=$BASE/shared/nbd.pid

# The holder of host $1: from its pid file, else (pid file lost with a crashed run) by the name
# it runs under. Only a live process counts.
holder_pid() {
  local f=$BASE/$1/pids/holder.pid p
  if [ -s "$f" ]; then
    p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null && grep -qa "lq14c-holder-$1" "/proc/$p/cmdline" 2>/dev/null; then
      echo "$p"
      return 0
    fi
  fi
  for p in /proc/[0-9]*; do
    if grep -qa "^lq14c-holder-$1" "$p/cmdline" 2>/dev/null; then
      echo "${p#/proc/}"
      return 0
    fi
  done
  return 1
}

in_ns() { # in_ns A|B CMD...: mount, UTS and network namespaces of the host
  local h=$1 p
  shift
  p=$(holder_pid "$h") || { echo "host $h is not up" >&2; return 1; }
  nsenter -t "$p" -m -u -n --wd="$PWD" -- "$@" # --wd: setns(mnt) resets the cwd to /
}

write_configs() {
  local h=$1 e=$BASE/$1/etc/libvirt
  mkdir -p "$e/qemu" "$e/storage" "$e/nwfilter" "$e/secrets"
  cp /etc/libvirt/libvirt.conf /etc/libvirt/libvirt-admin.conf "$e/" 2>/dev/null || true
  cat >"$e/libvirtd.conf" <<EOF
# host ${NAME[$h]} (scripts/two-libvirt-hosts.sh)
listen_tls = 0
listen_tcp = 1
listen_addr = "${ADDR[$h]}"
tcp_port = "16509"
auth_tcp = "none"
# Equal host UUIDs: "Attempt to migrate guest to the same host"; without one (no DMI here)
# libvirt invents a new one at every start.
host_uuid = "${UUID[$h]}"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  cat >"$e/qemu.conf" <<EOF
# host ${NAME[$h]} (scripts/two-libvirt-hosts.sh)
cgroup_controllers = [ ]
# Otherwise the destination hands back its hostname, which the source would have to resolve.
migration_address = "${ADDR[$h]}"
migration_host = "${ADDR[$h]}"
migration_port_min = 49152
migration_port_max = 49215
stdio_handler = "logd"
EOF
  # libvirt moves the mounts under /dev into each QEMU's own mount namespace, and cannot move
  # the file mounted over /dev/kvm (EINVAL): without KVM, QEMU stays in the host's namespace.
  if [ "$NO_KVM" = 1 ]; then echo 'namespaces = [ ]' >>"$e/qemu.conf"; fi
  printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "${ADDR[A]}" "${NAME[A]}" "${ADDR[B]}" "${NAME[B]}" >"$BASE/$h/hosts"
}

up_one() {
  local h=$1 d=$BASE/$1 cache
  rm -rf "$d"
  mkdir -p "$d/pids" "$d/private"
  for p in "${LIBVIRT_DIRS[@]}"; do mkdir -p "$d$p"; done
  # QEMU's capabilities cache survives down/up (the first start probes QEMU for ~10 s).
  cache=$BASE/cache/$h$([ "$NO_KVM" = 1 ] && echo -tcg || true)
  mkdir -p "$cache"
  rmdir "$d/var/cache/libvirt"
  ln -s "$cache" "$d/var/cache/libvirt"
  # /var/log/libvirt/qemu appears only with the first domain log: too late for a file serial.
  mkdir -p "$d/var/log/libvirt/qemu" "$d/var/lib/libvirt/images"
  # QEMU runs as libvirt-qemu and must reach its folders.
  chmod 755 "$BASE" "$d" "$d/var" "$d/var/lib" "$d/var/lib/libvirt" "$d/private"
  write_configs "$h"
  # LQ14C_NO_KVM: a root-only empty file over /dev/kvm. libvirt checks /dev/kvm as the QEMU user
  # (libvirt-qemu), finds it unusable and keeps its TCG capabilities cached (over /dev/null it
  # would think KVM usable, find none, and probe QEMU again on every call).
  if [ "$NO_KVM" = 1 ]; then : >"$d/no-kvm"; chmod 600 "$d/no-kvm"; fi
  setsid unshare --mount --uts --net --propagation private \
    bash -c "echo \$\$ > $d/pids/holder.pid; exec -a lq14c-holder-$h sleep infinity" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 100); do holder_pid "$h" >/dev/null && break; sleep 0.05; done
  holder_pid "$h" >/dev/null || { echo "the namespace holder of host $h did not start" >&2; return 1; }
  in_ns "$h" sh -ec "
    hostname ${NAME[$h]}
    for p in ${LIBVIRT_DIRS[*]}; do mount --bind $d\$p \$p; done
    mount --bind $d/hosts /etc/hosts
    mount --bind $d/private $BASE/private
    if [ $NO_KVM = 1 ] && [ -e /dev/kvm ]; then mount --bind $d/no-kvm /dev/kvm; fi
    ip link set lo up
    ip link add lq14c-br0 type bridge
    ip link set lq14c-br0 up"
}

wait_up() {
  local h=$1
  for _ in $(seq 300); do
    in_ns "$h" virsh -c qemu:///system version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "libvirtd of host $h did not answer within 30 s; its log: $BASE/$h/var/log/libvirt/libvirtd.log" >&2
  return 1
}

cmd_up() {
  cmd_down >/dev/null
  trap 'echo "two-libvirt-hosts.sh: up failed; tearing down" >&2; cmd_down >&2' ERR
  mkdir -p "$BASE/private" "$BASE/shared"
  chmod 755 "$BASE/shared"
  for h in "${HOSTS[@]}"; do up_one "$h"; done
  in_ns A ip link add "${IFACE[A]}" type veth peer name "${IFACE[B]}" netns "$(holder_pid B)"
  for h in "${HOSTS[@]}"; do
    in_ns "$h" sh -ec "ip addr add ${ADDR[$h]}/24 dev ${IFACE[$h]}; ip link set ${IFACE[$h]} up"
  done
  for h in "${HOSTS[@]}"; do
    in_ns "$h" virtlogd -d -p "$BASE/$h/pids/virtlogd.pid"
    in_ns "$h" libvirtd -d -l -p "$BASE/$h/pids/libvirtd.pid"
  done
  for h in "${HOSTS[@]}"; do wait_up "$h"; done
  # libvirtd probes QEMU on first use (10-40 s with an empty cache, longer under TCG on a busy
  # machine): do it here, not inside the first call a test times.
  local probe
  in_ns A virsh -c qemu:///system domcapabilities >/dev/null &
  probe=$!
  in_ns B virsh -c qemu:///system domcapabilities >/dev/null
  wait "$probe" # not a bare wait: the namespace holders are children of this shell too
  # What a peer-to-peer migration does: each libvirtd reaches the other over the veth.
  in_ns A virsh -c "qemu+tcp://${ADDR[B]}/system" uri >/dev/null
  in_ns B virsh -c "qemu+tcp://${ADDR[A]}/system" uri >/dev/null
  trap - ERR
  cmd_status
}

# Every process started in the host: same network namespace (libvirtd, virtlogd, QEMU, which
# libvirt gives a mount namespace of its own) or same mount namespace (a daemon run with
# nsenter -m -u in the root network namespace).
host_pids() {
  local h=$1 p net mnt q
  p=$(holder_pid "$h") || return 0
  net=$(readlink "/proc/$p/ns/net") mnt=$(readlink "/proc/$p/ns/mnt")
  for q in /proc/[0-9]*; do
    q=${q#/proc/}
    [ "$q" = "$p" ] && continue
    case "$(readlink "/proc/$q/ns/net" 2>/dev/null) $(readlink "/proc/$q/ns/mnt" 2>/dev/null)" in
      "$net "* | *" $mnt") echo "$q" ;;
    esac
  done
  return 0
}

alive() {
  local q
  for q; do kill -0 "$q" 2>/dev/null && echo "$q"; done
  return 0
}

cmd_down() {
  local h p pids dom
  for h in "${HOSTS[@]}"; do
    p=$(holder_pid "$h") || continue
    # Guests first, through libvirt (libvirtd leaves QEMU running when it exits).
    for dom in $(timeout 10 nsenter -t "$p" -m -u -n -- virsh -c qemu:///system list --name 2>/dev/null || true); do
      timeout 10 nsenter -t "$p" -m -u -n -- virsh -c qemu:///system destroy "$dom" >/dev/null 2>&1 || true
    done
    pids=$(host_pids "$h" | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
      # shellcheck disable=SC2086
      kill $pids 2>/dev/null || true
    fi
    for _ in $(seq 50); do
      pids=$(alive $pids | tr '\n' ' ')
      [ -z "${pids// /}" ] && break
      sleep 0.1
    done
    if [ -n "${pids// /}" ]; then
      echo "host $h: SIGKILL to $pids" >&2
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null || true
    fi
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  cmd_nbd_stop
  # Disk images go (the hosts' private storage, libvirt's own, the shared disk); configs and
  # logs stay for a look after a failed run, until the next `up`.
  for h in "${HOSTS[@]}"; do rm -rf "$BASE/$h/pids/"*.pid "$BASE/$h/private" "$BASE/$h/var/lib/libvirt/images"; done
  rm -f "$BASE/shared/"*.qcow2
  echo down
}

# A disk both hosts reach: one qemu-nbd in the root namespace on a unix socket (no network), an
# NBD export QEMU opens as a network disk, which libvirt does not count as local storage.
cmd_nbd_start() {
  local img=${1:?image}
  cmd_nbd_stop
  mkdir -p "$BASE/shared"
  setsid qemu-nbd -f qcow2 -x disk0 -k "$NBD_SOCK" --shared=8 --persistent --cache=none "$img" \
    </dev/null >"$BASE/shared/nbd.log" 2>&1 &
  echo $! >"$NBD_PID"
  for _ in $(seq 100); do [ -S "$NBD_SOCK" ] && break; sleep 0.05; done
  [ -S "$NBD_SOCK" ] || { echo "qemu-nbd did not start: $(cat "$BASE/shared/nbd.log")" >&2; return 1; }
  chmod 0777 "$NBD_SOCK" # QEMU runs as libvirt-qemu
  echo "$NBD_SOCK"
}

cmd_nbd_stop() {
  [ -s "$NBD_PID" ] || return 0
  local p
  p=$(cat "$NBD_PID")
  if grep -qa qemu-nbd "/proc/$p/cmdline" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$NBD_PID" "$NBD_SOCK"
}

cmd_status() {
  local h p
  for h in "${HOSTS[@]}"; do
    if ! p=$(holder_pid "$h"); then
      echo "$h: down"
      continue
    fi
    echo "$h: ${NAME[$h]} ${ADDR[$h]} host_uuid ${UUID[$h]} holder $p libvirtd $(cat "$BASE/$h/pids/libvirtd.pid" 2>/dev/null) processes [$(host_pids "$h" | tr '\n' ' ')]"
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  run)
    shift
    trap 'cmd_down >&2' EXIT
    trap 'exit 130' INT TERM
    cmd_up
    "$@"
    ;;
  status) cmd_status ;;
  holder) holder_pid "${2:?A or B}" ;;
  uri) echo "qemu:///system?socket=$BASE/${2:?A or B}/run/libvirt/libvirt-sock" ;;
  virsh)
    h=${2:?A or B}
    shift 2
    in_ns "$h" virsh -c qemu:///system "$@"
    ;;
  exec)
    h=${2:?A or B}
    shift 2
    in_ns "$h" "$@"
    ;;
  nbd-start) cmd_nbd_start "${2:-}" ;;
  nbd-stop) cmd_nbd_stop ;;
  *)
    echo "usage: $0 up|down|run CMD...|status|holder A|B|uri A|B|virsh A|B ARGS...|exec A|B CMD...|nbd-start IMAGE|nbd-stop" >&2
    exit 2
    ;;
esac
