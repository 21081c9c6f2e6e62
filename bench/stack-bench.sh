#!/usr/bin/env bash
# Stack benchmark: deploy-to-converged of the same 10-service stack (hello-world, healthchecked)
# on a 3-node lab swarm, by piswarm stack deploy and by `docker stack deploy --detach=false`
# (this machine's current docker CLI against the manager's engine: the nodes' 20.10 CLI has no
# waiting mode), both with Docker's 5 s stability window. Prints the ratio and how long
# after the last task started running piswarm reported convergence. Needs root.
# Run: npm run bench -- stack
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=bstk
SUBNET=10.88.0.0/24
REGISTRY=10.88.0.1:5000
WINDOW=5
source bench/lib.sh
swarm_bench_setup stack

start_swarm_lab "$NAME" "$SUBNET" 3 "$REGISTRY"

{ echo 'services:'; for i in $(seq 1 10); do printf '  s%s:\n    image: %s/hello-world:1\n    environment: {NODE_NAME: "{{.Node.Hostname}}"}\n    deploy: {replicas: 1}\n' "$i" "$REGISTRY"; done; } > "$WORK/ten.yml"

# When the stack's last task started running (ms since the epoch, from the engine's task records).
last_running() {
  on_manager sh -c "docker inspect --type task \$(docker stack ps $1 -q --no-trunc --filter desired-state=running) --format '{{json .Status.Timestamp}}'" | tr -d '"' |
    while read -r ts; do date -d "$ts" +%s%3N; done | sort -n | tail -1
}
remove() {
  on_manager docker stack rm "$1" >/dev/null
  while [ -n "$(on_manager docker ps -q --filter "label=com.docker.stack.namespace=$1")" ]; do sleep 0.5; done
  sleep 2
}

start=$(date +%s%3N)
DOCKER_HOST="unix://${PISWARM_LAB_ROOT:-/var/lib/piswarm/labs}/$NAME/nodes/pi-01/run/docker.sock" docker stack deploy --detach=false --resolve-image never -c "$WORK/ten.yml" ten-docker >"$WORK/docker.log" 2>&1 || { cat "$WORK/docker.log"; exit 1; }
docker_ms=$(( $(date +%s%3N) - start ))
remove ten-docker

start=$(date +%s%3N)
piswarm stack deploy "$WORK/ten.yml" --name ten-piswarm --window "$WINDOW" >"$WORK/piswarm.log" 2>&1 || { cat "$WORK/piswarm.log"; exit 1; }
end=$(date +%s%3N)
piswarm_ms=$(( end - start ))
last=$(last_running ten-piswarm)
remove ten-piswarm

printf 'docker stack deploy --detach=false  %6.1f s\n' "$(echo "scale=3; $docker_ms / 1000" | bc)"
printf 'piswarm stack deploy --window %s     %6.1f s\n' "$WINDOW" "$(echo "scale=3; $piswarm_ms / 1000" | bc)"
echo
echo "Ratio (goal <= 0.30): piswarm / docker = $(printf '%.3f' "$(echo "scale=4; $piswarm_ms / $docker_ms" | bc)")"
echo "piswarm reported $(echo "scale=2; ($end - $last) / 1000" | bc) s after the last task started running;"
echo "  that is $(echo "scale=2; ($end - $last - $WINDOW * 1000) / 1000" | bc) s after its ${WINDOW} s stability window ended (goal <= 0.5 s)."
