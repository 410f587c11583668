#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, when they are missing: libvirt0 (libvirt's
# built-in test:///default driver for the fast libvirt tier), the standard tools the telemetry
# tests compare against, and the independent ISO 9660 readers the cloud-init image is checked
# with (isoinfo, xorriso, blkid, pycdlib; PyYAML reads the generated YAML as cloud-init does),
# and chromium for the host UI's end-to-end tests.
# Idempotent and quick when everything is there. Runs as
# `npm test`'s pretest step; without root or apt it only says what is missing, and the tests
# that need it skip with a message (in CI they fail instead).
set -euo pipefail

# package:file-that-proves-it-is-installed
wanted=(
  "libvirt0:/usr/lib/x86_64-linux-gnu/libvirt.so.0"
  "iproute2:/usr/sbin/ip"
  "util-linux:/usr/bin/lscpu"
  "procps:/usr/bin/free"
  "curl:/usr/bin/curl"
  "openssl:/usr/bin/openssl"
  "tmux:/usr/bin/tmux"
  "nghttp2-client:/usr/bin/h2load"
  "genisoimage:/usr/bin/isoinfo"
  "xorriso:/usr/bin/xorriso"
  "python3-pycdlib:/usr/lib/python3/dist-packages/pycdlib/__init__.py"
  "python3-yaml:/usr/lib/python3/dist-packages/yaml/__init__.py"
  # Host UI logins: PAM (libpam0g through bun:ffi, pam_unix, /etc/pam.d/login) and the tools
  # the tests make real host users with. All in a base Debian; listed for slimmed images.
  "libpam0g:/usr/share/doc/libpam0g/copyright"
  "libpam-modules:/usr/share/doc/libpam-modules/copyright"
  "login:/etc/pam.d/login"
  "passwd:/usr/sbin/chpasswd"
  # The host UI's browser tests drive Debian's chromium with playwright-core (no browser download).
  "chromium:/usr/bin/chromium"
)
missing=()
for entry in "${wanted[@]}"; do
  pkg=${entry%%:*} file=${entry#*:}
  # libvirt0's library lives under the multiarch dir of whatever this machine is.
  if [ "$pkg" = libvirt0 ]; then
    # Captured first: `ldconfig -p | grep -q` under pipefail fails when grep closes the pipe early.
    grep -q 'libvirt\.so\.0 ' <<<"$(ldconfig -p 2>/dev/null)" && continue
  elif [ -e "$file" ]; then
    continue
  fi
  missing+=("$pkg")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test dependencies: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || apt-get update
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: missing Debian packages ${missing[*]}; tests that need them will be skipped" \
       "(install them with: sudo apt-get install ${missing[*]})" >&2
fi
