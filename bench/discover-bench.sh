#!/usr/bin/env bash
# Discover benchmark: piswarm discover against nmap -sn and arp-scan, sweeping the same /24 on a
# lab bridge holding 3 lab Pis plus hosts that are not lab Pis: Pis with newer Raspberry Pi MACs
# (Pi 5 on 2C:CF:67, a 36-bit 8C:1F:64:34:A block), a Pi with no SSH server, and non-Pis (Linux box
# with sshd, a laptop, a NAS that accepts port 22 and hangs, a neighbour in the same 8C:1F:64
# registry). Each tool's "Pis" are the hosts it names as Raspberry Pi; recall and false Pis are
# counted against the MACs put there. Needs root. Run: npm run bench -- discover
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
NAME=bdisc
SUBNET=10.84.0.0/24
BRIDGE=${NAME}br0
PISWARM="$PWD/dist/cli/main.js"
DECOY="$PWD/test/helpers/decoy.sh"
WORK=$(mktemp -d /tmp/piswarm-discover-bench.XXXXXX)
export PISWARM_LAB_ROOT=/var/lib/piswarm/bench-labs

source bench/lib.sh
bench_prerequisites "namespaces, bridges, raw sockets"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

# name|serve|mac|is-a-pi
DECOYS=(
  "d1|sshd|02:42:0a:54:00:c9|no"   # a Linux box with SSH
  "d2|nothing|3c:22:fb:12:34:56|no" # a laptop with no SSH server
  "d3|hang|00:11:32:aa:bb:cc|no"    # a NAS: port 22 accepts, then says nothing
  "d4|sshd|8c:1f:64:34:b1:23|no"    # same 8C:1F:64 registry, another company's 36-bit block
  "d5|sshd|2c:cf:67:01:02:03|yes"   # a Pi 5
  "d6|sshd|8c:1f:64:34:a1:23|yes"   # a Pi on a 36-bit MA-S block
  "d7|nothing|d8:3a:dd:0a:0b:0c|yes" # a Pi 4 whose sshd is off
)
cleanup() {
  for d in "${DECOYS[@]}"; do bash "$DECOY" remove "$NAME-${d%%|*}"; done
  node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "Starting the lab ($SUBNET on $BRIDGE: 3 Pis and ${#DECOYS[@]} other hosts)..."
node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true
node "$PISWARM" lab up --name "$NAME" --nodes 3 --subnet "$SUBNET" >"$WORK/lab.log" 2>&1 || { tail -20 "$WORK/lab.log"; exit 1; }
: > "$WORK/pis"
for ns in $(ip netns list | awk '{print $1}' | grep "^$NAME-pi-"); do
  ip -n "$ns" -br link show eth0 | awk '{print $3}' >> "$WORK/pis"
done
n=200
for d in "${DECOYS[@]}"; do
  IFS='|' read -r id serve mac pi <<<"$d"
  n=$((n + 1))
  bash "$DECOY" add "$NAME-$id" "$NAME-$id" "$BRIDGE" "10.84.0.$n/24" "$mac" "$serve" "$WORK"
  [ "$pi" = no ] || echo "$mac" >> "$WORK/pis"
done

# Each tool's output, reduced to "MAC VENDOR-SAYS-PI(yes/no)" lines.
piswarm_pis() { node "$PISWARM" discover --interface "$BRIDGE" --json --inventory "$WORK/piswarm.yaml" | python3 -c '
import json, sys
for h in json.load(sys.stdin)["hosts"]: print(h.get("mac", "?"), "yes" if h["isPi"] else "no")'; }
nmap_pis() { nmap -sn -n -e "$BRIDGE" -oX - "$SUBNET" | python3 -c '
import sys, xml.etree.ElementTree as ET
for a in ET.parse(sys.stdin).iter("address"):
    if a.get("addrtype") == "mac": print(a.get("addr").lower(), "yes" if "Raspberry Pi" in a.get("vendor", "") else "no")'; }
arpscan_pis() { arp-scan -x -I "$BRIDGE" "$SUBNET" | awk -F '\t' '{ print tolower($2), ($3 ~ /Raspberry Pi/ ? "yes" : "no") }'; }

declare -A best_times
summary=()
bench() {
  local name=$1 fn=$2 times=() start end
  for _ in $(seq "$RUNS"); do
    # Every run starts from an empty neighbour table, as after the Pis have just booted.
    ip neigh flush dev "$BRIDGE"
    start=$(date +%s.%N)
    "$fn" > "$WORK/$name.out"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  local median found false_pis present
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  present=$(wc -l < "$WORK/pis")
  found=$(awk '$2 == "yes"' "$WORK/$name.out" | grep -cFf "$WORK/pis" || true)
  false_pis=$(awk '$2 == "yes" { print $1 }' "$WORK/$name.out" | grep -vcFf "$WORK/pis" || true)
  best_times[$name]=$median
  printf '%-9s median %6.3f s over %d runs (%s)  Pis found %d/%d  false Pis %d\n' \
    "$name" "$median" "$RUNS" "$(printf '%s ' "${times[@]}" | sed 's/ $//')" "$found" "$present" "$false_pis"
}

echo "Sweeping $SUBNET, $RUNS runs each, neighbour table flushed before each run:"
bench piswarm piswarm_pis
bench nmap nmap_pis
bench arp-scan arpscan_pis
ratio() { printf "%.3f" "$(echo "scale=4; ${best_times[$1]} / ${best_times[$2]}" | bc)"; }
echo
echo "Ratios (median wall time; goal: piswarm <= 0.50x nmap -sn, recall 100%, false Pis 0):"
echo "  piswarm / nmap -sn:  $(ratio piswarm nmap)"
echo "  piswarm / arp-scan:  $(ratio piswarm arp-scan)"
echo "(nmap and arp-scan name a host's vendor from their own OUI files; piswarm also reads SSH banners.)"
