#!/usr/bin/env bash
# Dashboard benchmark: a 12-node lab swarm with 100 services; `piswarm dashboard` in a 160x50 tmux
# pane. At steady state (nothing changing) over 30 s: the dashboard process's CPU (goal <= 4% of
# one core), the extra CPU it causes in the manager's dockerd (against 30 s without it), bytes
# written to the terminal per second (goal <= 2 KiB/s); then its peak RSS (goal <= 150 MB) and,
# five times, the time from a new task running to the screen showing it (goal <= 500 ms).
# The same steady-state figures for `docker stats` (the per-container stream container
# dashboards such as lazydocker are built on) on the manager, in the same kind of pane.
# Needs root. Run: npm run bench -- dashboard
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=bdash
SUBNET=10.95.0.0/24
REGISTRY=10.95.0.1:5000
NODES=12
SERVICES=100
WINDOW=30
SESSION=piswarm-dashboard-bench
source bench/lib.sh
swarm_bench_setup dashboard
current=
trap 'tmux kill-session -t "$current" 2>/dev/null || true; node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
now_ms() { date +%s%3N; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
percent() { echo "scale=2; 100 * ($2 - $1) / $hz / $WINDOW" | bc; }

start_swarm_lab "$NAME" "$SUBNET" "$NODES" "$REGISTRY"
echo "Creating $SERVICES services..."
on_manager sh -c "for i in \$(seq 1 $SERVICES); do docker service create -d --quiet --name s\$i --replicas 1 $REGISTRY/hello-world:1 >/dev/null; done
  until [ \"\$(docker service ls --format '{{.Replicas}}' | grep -c '^1/1\$')\" = $SERVICES ]; do sleep 1; done"
sleep 5
dockerd=$(host_pid pi-01 docker.pid)

echo "Measuring the manager's dockerd without a dashboard ($WINDOW s)..."
d0=$(ticks "$dockerd"); sleep "$WINDOW"; d1=$(ticks "$dockerd")
idle=$(percent "$d0" "$d1")

# pane PANE COMMAND: runs COMMAND in a fresh 160x50 tmux pane, its output also appended to PANE.out;
# the previous pane's session goes only then (killing the last session first makes tmux's server
# exit under the next new-session: "server exited unexpectedly").
pane() {
  local previous=$current
  current="$SESSION-$1"
  tmux new-session -d -s "$current" -x 160 -y 50 "$2"
  tmux pipe-pane -t "$current" -o "cat >> $WORK/$1.out"
  [ -z "$previous" ] || tmux kill-session -t "$previous" 2>/dev/null || true
}
screen() { tmux capture-pane -p -t "$current"; }
# steady NAME PID: CPU of PID and of the manager's dockerd, and terminal bytes, over the window.
steady() {
  local p0 p1 d0 d1 b0 b1
  p0=$(ticks "$2"); d0=$(ticks "$dockerd"); b0=$(stat -c %s "$WORK/$1.out")
  sleep "$WINDOW"
  p1=$(ticks "$2"); d1=$(ticks "$dockerd"); b1=$(stat -c %s "$WORK/$1.out")
  echo "$(percent "$p0" "$p1") $(echo "scale=2; $(percent "$d0" "$d1") - $idle" | bc) $(( (b1 - b0) / WINDOW ))"
}

echo "Starting piswarm dashboard..."
# With the flag the piswarm command's shebang gives node (dist/cli/main.js).
pane dashboard "env HOME=$WORK SSH_AUTH_SOCK= node --max-semi-space-size=2 $PISWARM --inventory $WORK/piswarm.yaml dashboard"
until screen | grep -q "SERVICES ($SERVICES)"; do sleep 0.5; done
sleep 15
dash=$(pgrep -f "^node .*piswarm.yaml dashboard" | head -1)
read -r dash_cpu dash_dockerd dash_bytes < <(steady dashboard "$dash")
echo "  steady: CPU $dash_cpu%, manager dockerd +$dash_dockerd% (idle $idle%), $dash_bytes B/s to the terminal"

echo "Event to screen, five times..."
: >"$WORK/latency"
for svc in s1 s10 s100 s11 s12; do
  on_manager docker service scale -d "$svc=2" >/dev/null
  until screen | grep -Eq "^.{1,3} $svc +- +replicated +2/2 "; do sleep 0.02; done
  seen=$(now_ms)
  running=$(on_manager sh -c "docker inspect --type task \$(docker service ps $svc -q --no-trunc --filter desired-state=running) --format '{{json .Status.Timestamp}}'" | tr -d '"' | while read -r ts; do date -d "$ts" +%s%3N; done | sort -n | tail -1)
  echo $(( seen - running )) >>"$WORK/latency"
  echo "  $svc: on screen $(tail -1 "$WORK/latency") ms after its new task ran"
  on_manager docker service scale -d "$svc=1" >/dev/null
  sleep 3
done
latency=$(sort -n "$WORK/latency" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$dash/status")

echo "Starting docker stats on the manager..."
pane stats "node $PISWARM lab exec pi-01 --name $NAME -- docker stats"
sleep 15
stats=$(pgrep -f "^docker stats" | head -1)
read -r stats_cpu stats_dockerd stats_bytes < <(steady stats "$stats")

echo
printf '%-28s %12s %16s %14s\n' '' 'CPU (1 core)' 'extra dockerd' 'terminal B/s'
printf '%-28s %11s%% %15s%% %14s\n' "piswarm dashboard" "$dash_cpu" "$dash_dockerd" "$dash_bytes"
printf '%-28s %11s%% %15s%% %14s\n' "docker stats (manager only)" "$stats_cpu" "$stats_dockerd" "$stats_bytes"
echo
echo "piswarm dashboard: $NODES nodes, $SERVICES services; goals: CPU <= 4%, terminal <= 2048 B/s, RSS <= 150 MB, event to screen <= 500 ms"
echo "  peak RSS $rss MB; event to screen (median of 5) $latency ms ($(paste -sd' ' "$WORK/latency") ms)"
echo "  CPU ratio piswarm dashboard / docker stats = $(printf '%.3f' "$(echo "scale=4; $dash_cpu / ($stats_cpu + 0.0001)" | bc)")"
