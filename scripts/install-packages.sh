#!/usr/bin/env bash
# The one installer of Debian packages: installs whatever scripts/system-packages.txt lists that is
# not installed (after apt-get update), for every part or the parts named. `npm test`, `npm run
# demo`, `npm run bench` and `piswarm lab up` all go through it.
#   install-packages.sh [--check] [PART...]   parts: lab demo test bench (none: all of them)
# --check installs nothing: it prints the missing packages, one a line, and exits 1 if there are any.
set -euo pipefail
list="$(cd "$(dirname "$0")" && pwd)/system-packages.txt"
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi

parts=$(sed -n 's/^## \([a-z0-9-]*\):.*/\1/p' "$list")
for part in "$@"; do
  grep -qxF -- "$part" <<<"$parts" || {
    echo "install-packages.sh: no part named '$part' in $list (there are: $(echo $parts))." >&2
    exit 64
  }
done

# The packages of the parts asked for, in the list's order.
wanted=$(awk -v want=" $* " '
  /^## / { part = $2; sub(/:$/, "", part); next }
  { sub(/#.*/, "") }
  NF && (want == "  " || index(want, " " part " ")) { print $1 }' "$list")

missing_packages() {
  local installed
  # dpkg-query names only the packages it knows; one never installed is simply absent.
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $wanted 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
  comm -23 <(printf '%s\n' $wanted | sort -u) <(printf '%s\n' $installed | sort -u)
}

missing=$(missing_packages)
if [ "$check" = 1 ] || [ -z "$missing" ]; then
  [ -z "$missing" ] || { printf '%s\n' $missing; exit 1; }
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "These Debian packages are missing: $(echo $missing). Installing them needs root:" >&2
  echo "  sudo bash $0 $*" >&2
  exit 1
fi
echo "Installing Debian packages: $(echo $missing)" >&2
# A policy-rc.d that says no keeps the packages' own daemons (dockerd, sshd, rabbitmq) from being
# started system-wide on this machine: the lab starts its own, per node. An existing one is kept.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word a package
apt-get install -y -qq --no-install-recommends $missing >/dev/null
still=$(missing_packages)
if [ -n "$still" ]; then
  echo "apt-get ran, but these are still not installed: $(echo $still)." >&2
  exit 1
fi
