#!/usr/bin/env bash
# Bootstrap benchmark: from pristine lab Pis (pirate/hypriot, no key, no swarm) to a secured swarm
# with 1 manager, by piswarm bootstrap (3 and 12 nodes), by a sequential loop of ssh commands
# (what a person types) and by Ansible (Debian's, default forks) running the same steps. Every
# contender gets a fresh lab. Needs root. Run: npm run bench -- bootstrap
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=bboot
SUBNET=10.86.0.0/24
PISWARM="$PWD/dist/cli/main.js"
WORK=$(mktemp -d /tmp/piswarm-bootstrap-bench.XXXXXX)
export PISWARM_LAB_ROOT=/var/lib/piswarm/bench-labs
# The benchmark's "user": a home of its own with a fresh key, and no agent.
export HOME="$WORK/home" SSH_AUTH_SOCK=
SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10)

source bench/lib.sh
bench_prerequisites "namespaces, bridges"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
KEY="$HOME/.ssh/id_ed25519"

cleanup() {
  node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The whole machine's busy CPU time (all cores, in clock ticks): the lab's Pis share these cores,
# so when it nears wall time x cores, the run is bound by the emulated Pis' CPU, not by the tool.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
CORES=$(nproc)
TICKS=$(getconf CLK_TCK)

ips() { lab_ips "$SUBNET" "$1"; }
fresh_lab() {
  node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true
  node "$PISWARM" lab up --name "$NAME" --nodes "$1" --subnet "$SUBNET" >"$WORK/lab.log" 2>&1 || { tail -20 "$WORK/lab.log"; exit 1; }
  settle
}
# Fresh dockerds keep the CPU busy for a while after answering: start each contender on a quiet
# machine (under 10% busy for a second), or after 30 s.
settle() {
  local i before
  for i in $(seq 30); do
    before=$(busy_ticks)
    sleep 1
    [ $(( $(busy_ticks) - before )) -ge $(( TICKS * CORES / 10 )) ] || return 0
  done
}
# The swarm must really be there: N nodes Ready on the manager, and the default password refused.
check() {
  local n=$1 ready
  ready=$(ssh "${SSH_OPTS[@]}" -i "$KEY" -o BatchMode=yes pirate@10.86.0.11 "docker node ls --format '{{.Status}}'" | grep -c Ready)
  [ "$ready" = "$n" ] || { echo "  expected $n Ready nodes, the manager lists $ready" >&2; exit 1; }
  if sshpass -p hypriot ssh "${SSH_OPTS[@]}" -o PreferredAuthentications=password -o PubkeyAuthentication=no pirate@10.86.0.12 true 2>/dev/null; then
    echo "  the default password still opens 10.86.0.12" >&2; exit 1
  fi
}

by_piswarm() {
  node "$PISWARM" --inventory "$WORK/piswarm-$1.yaml" bootstrap --nodes "$(ips "$1" | paste -sd,)" >"$WORK/out.log" 2>&1
}
by_hand() {
  local first=10.86.0.11 ip token
  for ip in $(ips "$1"); do
    sshpass -p hypriot ssh-copy-id -f -i "$KEY.pub" "${SSH_OPTS[@]}" "pirate@$ip" >/dev/null 2>&1
    ssh "${SSH_OPTS[@]}" -i "$KEY" -o BatchMode=yes "pirate@$ip" docker version --format '{{.Server.Version}}' >/dev/null
    ssh "${SSH_OPTS[@]}" -i "$KEY" -o BatchMode=yes "pirate@$ip" \
      "echo pirate:\$(head -c 18 /dev/urandom | base64) | sudo chpasswd && sudo sed -i '1i PasswordAuthentication no' /etc/ssh/sshd_config && sudo kill -HUP \$(cat /run/sshd.pid)"
  done
  ssh "${SSH_OPTS[@]}" -i "$KEY" -o BatchMode=yes "pirate@$first" docker swarm init --advertise-addr "$first" >/dev/null
  token=$(ssh "${SSH_OPTS[@]}" -i "$KEY" -o BatchMode=yes "pirate@$first" docker swarm join-token -q worker)
  for ip in $(ips "$1" | tail -n +2); do
    ssh "${SSH_OPTS[@]}" -i "$KEY" -o BatchMode=yes "pirate@$ip" docker swarm join --token "$token" "$first:2377" >/dev/null
  done
}
by_ansible() {
  { echo '[manager]'; echo "pi-01 ansible_host=10.86.0.11"; echo '[workers]'
    for i in $(seq 2 "$1"); do echo "pi-$(printf %02d "$i") ansible_host=10.86.0.$((10 + i))"; done
    echo '[pis:children]'; echo manager; echo workers
  } > "$WORK/hosts.ini"
  # ssh keeps known_hosts in the passwd home (/root), not $HOME: keep the lab's keys out of it.
  ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_SSH_ARGS="-o UserKnownHostsFile=/dev/null -o ControlMaster=auto -o ControlPersist=60s" ansible-playbook -i "$WORK/hosts.ini" -u pirate -e ansible_password=hypriot -e "public_key=$KEY.pub" \
    bench/bootstrap/playbook.yml >"$WORK/out.log" 2>&1
}


declare -A secs
run() {
  local name=$1 fn=$2 n=$3 start end busy_before busy
  fresh_lab "$n"
  busy_before=$(busy_ticks)
  start=$(date +%s.%N)
  "$fn" "$n" || { echo "$name failed:"; tail -20 "$WORK/out.log" 2>/dev/null; exit 1; }
  end=$(date +%s.%N)
  busy=$(echo "scale=2; ($(busy_ticks) - $busy_before) / $TICKS" | bc)
  check "$n"
  secs[$name]=$(echo "$end - $start" | bc)
  printf '%-12s %6.1f s   CPU busy %5.1f core-s of %5.1f (%d cores)\n' "$name" "${secs[$name]}" "$busy" "$(echo "${secs[$name]} * $CORES" | bc)" "$CORES"
}

echo "From pristine lab Pis to a secured swarm (key in, password replaced, password login off, 1 manager):"
# CONTENDERS=ansible (or piswarm, hand) runs just those.
for contender in ${CONTENDERS:-piswarm hand ansible}; do
  for n in 3 12; do
    case $contender in
      piswarm) run "piswarm $n" by_piswarm "$n" ;;
      hand) run "by hand $n" by_hand "$n" ;;
      ansible) run "ansible $n" by_ansible "$n" ;;
    esac
  done
done
[ -z "${CONTENDERS:-}" ] || exit 0
ratio() { printf "%.3f" "$(echo "scale=4; ${secs[$1]} / ${secs[$2]}" | bc)"; }
echo
echo "Ratios (goals: piswarm 12 <= 1.5 x piswarm 3; piswarm <= 0.5 x Ansible on 12 nodes):"
echo "  piswarm 12 / piswarm 3:   $(ratio 'piswarm 12' 'piswarm 3')"
echo "  piswarm 12 / ansible 12:  $(ratio 'piswarm 12' 'ansible 12')"
echo "  piswarm 12 / by hand 12:  $(ratio 'piswarm 12' 'by hand 12')"
echo "  ansible 12 / ansible 3:   $(ratio 'ansible 12' 'ansible 3')"
