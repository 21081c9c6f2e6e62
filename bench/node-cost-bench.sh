#!/usr/bin/env bash
# Node-side cost: what piswarm makes the manager Pi do. On a 3-node lab swarm, every program
# started under the manager's sshd (strace on it, so nothing short-lived is missed) and the CPU
# seconds its cgroup used (the node's daemons, shells and containers), while `piswarm stack deploy`
# follows hello-world (3 replicas, 10 s window) and while `piswarm dashboard` runs for 60 s.
# The same with piswarm as it was before the Engine API change (every look at the swarm a shell
# and curl over SSH; PISWARM_BEFORE, default the commit before it), each Pi held to one core
# (lab up --cpu 1) and then to a quarter of one (the quota of --cpu 0.25, a Pi Zero).
# Needs root. Run: npm run bench -- node-cost
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=bcost
SUBNET=10.97.0.0/24
REGISTRY=10.97.0.1:5000
DASHBOARD_S=60
SESSION=piswarm-cost-bench
BEFORE=${PISWARM_BEFORE:-$(git log --format=%H -1 "$(git log --format=%H --grep='^Engine API seam (issue 14, first part)' | tail -1)~1")}
source bench/lib.sh
swarm_bench_setup node-cost
OLD="$WORK/before"
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true; git worktree remove --force "$OLD" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

echo "Building piswarm as of ${BEFORE:0:10} (before the Engine API)..."
git worktree add --detach "$OLD" "$BEFORE" >/dev/null 2>&1
ln -s "$PWD/node_modules" "$OLD/node_modules"
(cd "$OLD" && npm run --silent build >/dev/null)

LAB_CPU=1 start_swarm_lab "$NAME" "$SUBNET" 3 "$REGISTRY"
sshd=$(host_pid pi-01 sshd.pid)
usage_file=/sys/fs/cgroup/cpuacct/piswarm-$NAME-pi-01/cpuacct.usage
[ -f "$usage_file" ] || usage_file=/sys/fs/cgroup/piswarm-$NAME-pi-01/cpu.stat

cpu_ns() { if [[ $usage_file == *cpu.stat ]]; then awk '/^usage_usec/ { print $2 * 1000 }' "$usage_file"; else cat "$usage_file"; fi; }
# share FRACTION: every node's quota, as lab up --cpu FRACTION sets it.
share() {
  local n quota
  quota=$(echo "$1 * 100000 / 1" | bc)
  for n in 1 2 3; do
    if [ -d "/sys/fs/cgroup/cpu/piswarm-$NAME-pi-0$n" ]; then echo "$quota" >"/sys/fs/cgroup/cpu/piswarm-$NAME-pi-0$n/cpu.cfs_quota_us"
    else echo "$quota 100000" >"/sys/fs/cgroup/piswarm-$NAME-pi-0$n/cpu.max"; fi
  done
}

# measure LABEL COMMAND...: programs started under the manager's sshd and its CPU seconds while COMMAND runs.
measure() {
  local label=$1; shift
  local trace="$WORK/$label.trace" u0 u1
  strace -f -qq -e trace=execve -e signal=none -o "$trace" -p "$sshd" & local tracer=$!
  sleep 1
  u0=$(cpu_ns)
  "$@" >"$WORK/$label.log" 2>&1 || { echo "$label failed:"; tail -5 "$WORK/$label.log"; }
  u1=$(cpu_ns)
  kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
  echo "$(grep -c 'execve(.*= 0$' "$trace" || true) $(echo "scale=2; ($u1 - $u0) / 1000000000" | bc)"
}

deploy() { HELLO_IMAGE=$REGISTRY/hello-world:1 HELLO_PORT_MODE=host node "$1" --inventory "$WORK/piswarm.yaml" stack deploy stacks/hello-world.yml -c stacks/hello-world.lab.yml --window 10; }
undeploy() { node "$PISWARM" --inventory "$WORK/piswarm.yaml" stack rm hello-world >/dev/null; sleep 8; }
dashboard() {
  tmux kill-session -t "$SESSION" 2>/dev/null || true
  tmux new-session -d -s "$SESSION" -x 160 -y 50 "env HOME=$WORK SSH_AUTH_SOCK= node $1 --inventory $WORK/piswarm.yaml dashboard"
  sleep "$DASHBOARD_S"
  tmux kill-session -t "$SESSION"
}

declare -A result
for cpu in 1 0.25; do
  share "$cpu"
  for version in before after; do
    js=$PISWARM; [ "$version" = before ] && js="$OLD/dist/cli/main.js"
    echo "--cpu $cpu, piswarm $version: stack deploy..."
    result[$cpu-$version-deploy]=$(measure "deploy-$cpu-$version" deploy "$js")
    undeploy
    echo "--cpu $cpu, piswarm $version: dashboard for $DASHBOARD_S s (hello-world running)..."
    deploy "$PISWARM" >/dev/null 2>&1
    result[$cpu-$version-dashboard]=$(measure "dashboard-$cpu-$version" dashboard "$js")
    undeploy
  done
done

echo
printf '%-8s %-10s %-18s %-18s %s\n' CPU WORK 'BEFORE progs/CPU' 'AFTER progs/CPU' 'RATIO progs / CPU'
for cpu in 1 0.25; do
  for work in deploy dashboard; do
    read -r bp bc_ <<<"${result[$cpu-before-$work]}"
    read -r ap ac <<<"${result[$cpu-after-$work]}"
    printf '%-8s %-10s %-18s %-18s %s / %s\n' "$cpu" "$work" "$bp / ${bc_}s" "$ap / ${ac}s" "$(echo "scale=3; $ap / $bp" | bc)" "$(echo "scale=3; $ac / $bc_" | bc)"
  done
done
