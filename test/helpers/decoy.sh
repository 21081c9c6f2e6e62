#!/usr/bin/env bash
# A host on a lab's bridge that is not a lab Pi, for discover's tests and its benchmark:
#   decoy.sh add NETNS VETH BRIDGE IP/PREFIX MAC SERVE STATE_DIR
#     SERVE: sshd (a real OpenSSH server), hang (accepts TCP on 22, then never says a word),
#     or nothing (the kernel refuses port 22). Returns once port 22 listens.
#   decoy.sh remove NETNS
set -euo pipefail

add() {
  local netns=$1 veth=$2 bridge=$3 addr=$4 mac=$5 serve=$6 dir=$7
  ip netns add "$netns"
  ip link add "$veth" type veth peer name eth0 netns "$netns"
  ip link set "$veth" master "$bridge" up
  ip -n "$netns" link set eth0 address "$mac"
  ip -n "$netns" addr add "$addr" dev eth0
  ip -n "$netns" link set eth0 up
  ip -n "$netns" link set lo up
  case $serve in
    nothing) return 0 ;;
    sshd)
      mkdir -p "$dir/$netns" /run/sshd
      ssh-keygen -q -t ed25519 -N '' -f "$dir/$netns/host_key" <<<y >/dev/null
      set -- /usr/sbin/sshd -D -f /dev/null -h "$dir/$netns/host_key" -o "PidFile=$dir/$netns/sshd.pid" ;;
    hang) set -- "$(command -v node)" -e "require('net').createServer(() => {}).listen(22)" ;;
    *) echo "decoy.sh: unknown service '$serve' (sshd, hang or nothing)" >&2; return 64 ;;
  esac
  setsid ip netns exec "$netns" "$@" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 100); do
    [ -z "$(ip netns exec "$netns" ss -Hltn 'sport = :22')" ] || return 0
    sleep 0.1
  done
  echo "decoy.sh: nothing listens on port 22 in $netns after 10 s" >&2
  return 1
}

remove() {
  local pid
  for pid in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  # Deleting the namespace deletes its end of the veth pair, and with it the bridge's end.
  ip netns del "$1" 2>/dev/null || true
}

command=$1; shift
case $command in
  add) add "$@" ;;
  remove) remove "$@" ;;
  *) echo "usage: decoy.sh add NETNS VETH BRIDGE IP/PREFIX MAC SERVE STATE_DIR | remove NETNS" >&2; exit 64 ;;
esac
