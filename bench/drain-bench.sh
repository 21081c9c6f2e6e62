#!/usr/bin/env bash
# Drain benchmark: a node running 30 tasks is drained until every task runs elsewhere (and none is
# left on it), by `piswarm node drain` and by hand: `docker node update --availability drain` on
# the manager, then polling `docker service ls` (and the node's tasks) every second until the
# service is 30/30 with nothing on the node. Five rounds each, alternating; medians, the ratio,
# and how long after the last task changed state piswarm reported. Needs root.
# Run: npm run bench -- drain
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=bdrain
SUBNET=10.92.0.0/24
REGISTRY=10.92.0.1:5000
TASKS=30
ROUNDS=5
source bench/lib.sh
swarm_bench_setup drain
now_ms() { date +%s%3N; }

start_swarm_lab "$NAME" "$SUBNET" 3 "$REGISTRY"

# 30 tasks, all on pi-02: the other nodes are paused while the service starts.
setup() {
  on_manager sh -c "docker service rm load >/dev/null 2>&1 || true
    while docker ps -q --filter label=com.docker.swarm.service.name=load | grep -q .; do sleep 0.5; done
    docker node update --availability active pi-02 >/dev/null
    docker node update --availability pause pi-01 >/dev/null && docker node update --availability pause pi-03 >/dev/null
    docker service create -d --quiet --name load --replicas $TASKS --stop-grace-period 2s $REGISTRY/hello-world:1 >/dev/null
    until [ \"\$(docker service ls --filter name=load --format '{{.Replicas}}')\" = '$TASKS/$TASKS' ]; do sleep 0.5; done
    docker node update --availability active pi-01 >/dev/null && docker node update --availability active pi-03 >/dev/null"
  node "$PISWARM" lab exec pi-02 --name "$NAME" -- sh -c "[ \$(docker ps -q --filter label=com.docker.swarm.service.name=load | wc -l) = $TASKS ]" || { echo "setup: not all $TASKS tasks on pi-02" >&2; exit 1; }
  sleep 2
}

by_hand() {
  on_manager sh -c "docker node update --availability drain pi-02 >/dev/null
    until [ \"\$(docker service ls --filter name=load --format '{{.Replicas}}')\" = '$TASKS/$TASKS' ] && [ -z \"\$(docker node ps pi-02 -q --filter desired-state=running)\" ] && [ -z \"\$(docker node ps pi-02 --format '{{.CurrentState}}' | grep -E '^(Running|Starting|Preparing|Assigned)')\" ]; do sleep 1; done"
}

# When the last task changed state: the replacements starting, or the old ones stopping (ms).
last_change() {
  on_manager sh -c "docker inspect --type task \$(docker service ps load -q --no-trunc) --format '{{json .Status.Timestamp}}'" | tr -d '"' |
    while read -r ts; do date -d "$ts" +%s%3N; done | sort -n | tail -1
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
: >"$WORK/hand" && : >"$WORK/piswarm" && : >"$WORK/lag"
for round in $(seq 1 "$ROUNDS"); do
  setup
  start=$(now_ms); by_hand; echo $(( $(now_ms) - start )) >>"$WORK/hand"
  setup
  start=$(now_ms)
  piswarm node drain pi-02 >"$WORK/piswarm.log" 2>&1 || { cat "$WORK/piswarm.log"; exit 1; }
  end=$(now_ms)
  echo $(( end - start )) >>"$WORK/piswarm"
  echo $(( end - $(last_change) )) >>"$WORK/lag"
  echo "round $round: by hand $(tail -1 "$WORK/hand") ms, piswarm $(tail -1 "$WORK/piswarm") ms (reported $(tail -1 "$WORK/lag") ms after the last task change)"
done

hand=$(median <"$WORK/hand") ours=$(median <"$WORK/piswarm") lag=$(median <"$WORK/lag")
printf 'by hand: drain + poll docker service ls every 1 s   %6.1f s (median of %s)\n' "$(echo "scale=3; $hand / 1000" | bc)" "$ROUNDS"
printf 'piswarm node drain                                  %6.1f s\n' "$(echo "scale=3; $ours / 1000" | bc)"
echo
echo "Ratio (goal <= 1.0): piswarm / by hand = $(printf '%.3f' "$(echo "scale=4; $ours / $hand" | bc)")"
echo "piswarm reported $(echo "scale=2; $lag / 1000" | bc) s after the last task changed state (goal <= 1 s)."
