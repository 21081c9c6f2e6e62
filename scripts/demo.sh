#!/usr/bin/env bash
# The main job on a fresh machine, on the built-in virtual lab: install and build piswarm, start a
# lab of simulated Raspberry Pis (real dockerd and sshd), secure them and form a swarm
# (bootstrap), build hello-world into the lab registry, and deploy it. Needs root.
# Extra arguments go to `lab up` (e.g. --nodes 5). The inventory is ./piswarm.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
piswarm() { node dist/cli/main.js "$@"; }

piswarm lab up "$@"
name=pilab
args=("$@")
for i in "${!args[@]}"; do [ "${args[$i]}" != --name ] || name=${args[$((i + 1))]}; done
status=$(piswarm lab status --json --name "$name")
registry=$(node -e 'console.log(JSON.parse(process.argv[1]).registry.address)' "$status")
ips=$(node -e 'console.log(JSON.parse(process.argv[1]).nodes.map((n) => n.ip).join(","))' "$status")

piswarm bootstrap --nodes "$ips"
echo "Building hello-world into the lab registry ($registry)..."
bash scripts/lab-images.sh "$name" pi-01 "$registry" >/dev/null
HELLO_IMAGE="$registry/hello-world:1" piswarm stack deploy stacks/hello-world.yml -c stacks/hello-world.lab.yml

first=${ips%%,*}
echo
echo "hello-world answers on port 8080 of every node, e.g.: curl http://$first:8080/"
curl -s "http://$first:8080/" || true
echo "Next: piswarm stack ps hello-world; piswarm run -- docker ps; piswarm lab down (when done)."
