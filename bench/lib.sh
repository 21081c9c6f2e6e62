# Shared by the benchmarks (sourced): root check and missing Debian packages.

# bench_prerequisites WHY: stops unless running as root, then installs what scripts/system-packages.txt
# lists and this machine lacks (every benchmark runs the lab, the demo's images and its own peers).
bench_prerequisites() {
  [ "$(id -u)" = 0 ] || { echo "The benchmark needs root ($1)." >&2; exit 1; }
  bash scripts/install-packages.sh
}

# card_bench_setup: what a benchmark on emulated SD cards starts with: root, a build, $BENCH_DIR, and
# PISWARM, the installed bin as users run it (its shebang sets node flags).
card_bench_setup() {
  PISWARM="$PWD/dist/cli/main.js"
  bench_prerequisites "loop devices, blkio throttling"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npm run --silent build
  mkdir -p "$BENCH_DIR"
}

# throttle MAJ:MIN WRITE_BPS READ_BPS: a loop device's speeds, set in the root blkio cgroup so they
# hold for every writer, buffered writeback included (0 0 lifts them).
throttle() {
  echo "$1 $2" > /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device
  echo "$1 $3" > /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device
}

# swarm_bench_setup KIND: what a benchmark on a lab swarm named $NAME starts with: root, bc, a
# build, a work folder ($WORK, also HOME so no user key or agent is used) removed with the lab on
# exit, and piswarm / on_manager (pi-01's console) helpers.
swarm_bench_setup() {
  PISWARM="$PWD/dist/cli/main.js"
  WORK=$(mktemp -d "/tmp/piswarm-$1-bench.XXXXXX")
  export PISWARM_LAB_ROOT=/var/lib/piswarm/bench-labs HOME="$WORK" SSH_AUTH_SOCK=
  bench_prerequisites "namespaces, bridges"
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npm run --silent build
  trap 'node "$PISWARM" lab down --name "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  piswarm() { node "$PISWARM" --inventory "$WORK/piswarm.yaml" "$@"; }
  on_manager() { node "$PISWARM" lab exec pi-01 --name "$NAME" -- "$@"; }
}

# host_pid NODE PIDFILE: this machine's pid of the lab $NAME's node daemon whose pid file
# (run/sshd.pid, run/docker.pid) holds its pid in the node's own PID namespace.
host_pid() {
  local inner net p
  inner=$(cat "$PISWARM_LAB_ROOT/$NAME/nodes/$1/run/$2")
  net=$(stat -L -c %i "/run/netns/$NAME-$1")
  for p in $(ip netns pids "$NAME-$1"); do
    if [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = "$inner" ] && [ "$(stat -L -c %i "/proc/$p/ns/net")" = "$net" ]; then echo "$p"; return; fi
  done
  echo "no process of $1 has pid $inner in the node" >&2; return 1
}

# start_swarm_lab NAME SUBNET COUNT REGISTRY: a lab of COUNT Pis (each held to LAB_CPU of a core when set) bootstrapped into a swarm
# (inventory $WORK/piswarm.yaml), images/ built into its registry, and hello-world pulled on
# every node so contenders measure scheduling, not pulls. Needs PISWARM and WORK.
# lab_ips SUBNET COUNT: the addresses lab up gives its nodes (.11, .12, …), one per line.
lab_ips() { local i; for i in $(seq 1 "$2"); do echo "${1%.0/24}.$((10 + i))"; done; }

start_swarm_lab() {
  local name=$1 subnet=$2 count=$3 registry=$4 ips n
  ips=$(lab_ips "$subnet" "$count" | paste -sd,)
  echo "Starting a $count-node lab swarm and building hello-world..."
  node "$PISWARM" lab down --name "$name" >/dev/null 2>&1 || true
  node "$PISWARM" lab up --name "$name" --nodes "$count" --subnet "$subnet" ${LAB_CPU:+--cpu "$LAB_CPU"} >"$WORK/lab.log" 2>&1 || { tail -20 "$WORK/lab.log"; exit 1; }
  node "$PISWARM" --inventory "$WORK/piswarm.yaml" bootstrap --nodes "$ips" >"$WORK/bootstrap.log" 2>&1 || { tail -20 "$WORK/bootstrap.log"; exit 1; }
  bash scripts/lab-images.sh "$name" pi-01 "$registry" >/dev/null
  for n in $(seq 1 "$count"); do node "$PISWARM" lab exec "$(printf 'pi-%02d' "$n")" --name "$name" -- docker pull -q "$registry/hello-world:1" >/dev/null; done
}
