#!/usr/bin/env bash
# The main job on a fresh machine, on the built-in virtual lab: install and build piswarm, then
# `piswarm init --lab`: three cards written as image files (manager-01, worker-01, worker-02),
# booted as simulated Raspberry Pis (real dockerd and sshd), found by their cards' host keys,
# secured and formed into a swarm, hello-world built (multi-platform, from Debian's packages, no
# Docker Hub) and deployed. Then the IoT stack against a RabbitMQ broker outside the swarm
# (Debian's, on this machine), and day two. Needs root. Extra arguments go to `init` (e.g.
# --hostname manager-{01..03},worker-{01..02} --managers 3). The inventory is ./piswarm.yaml, the
# plan ./cluster.yaml. Missing Debian packages of scripts/system-packages.txt (its lab and demo
# parts) are installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-packages.sh lab demo
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
piswarm() { node dist/cli/main.js "$@"; }

piswarm init --lab --yes --deploy hello-world "$@"
name=$(node -e 'const y = require("yaml"); console.log(y.parse(require("fs").readFileSync("cluster.yaml", "utf8")).lab.name)')
status=$(piswarm lab status --json --name "$name")
registry=$(node -e 'console.log(JSON.parse(process.argv[1]).registry.address)' "$status")
ips=$(node -e 'console.log(JSON.parse(process.argv[1]).nodes.map((n) => n.ip).join(","))' "$status")
manager=$(node -e 'console.log(JSON.parse(process.argv[1]).nodes[0].name)' "$status")
last=$(node -e 'const n = JSON.parse(process.argv[1]).nodes; console.log(n[n.length - 1].name)' "$status")
echo "Building the IoT images into the lab registry ($registry) as manifest lists..."
bash scripts/lab-images.sh "$name" "$manager" "$registry" >/dev/null

# The IoT stack's broker lives outside the swarm, on this machine (the lab's gateway address).
broker="${PISWARM_LAB_ROOT:-/var/lib/piswarm/labs}/$name-broker"
gateway=$(node -e 'console.log(JSON.parse(process.argv[1]).gateway)' "$status")
# The broker's password is a secret: readable by root only, like every file piswarm keeps one in.
if [ ! -f "$broker.password" ]; then (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$broker.password"); fi
chmod 600 "$broker.password"
password=$(cat "$broker.password")
if ! (exec 3<>"/dev/tcp/127.0.0.1/5672") 2>/dev/null; then
  echo "Starting RabbitMQ (the IoT broker) on $gateway:5672..."
  bash scripts/lab-rabbitmq.sh start "$broker" 5672 iot < "$broker.password"
fi
# The consumers get the broker URL (it holds the password) as a Docker secret made from this file.
(umask 077; printf '%s' "amqp://iot:$password@$gateway:5672" > "$broker.url")
export AMQP_URL_FILE="$broker.url" IOT_CONSUMER_IMAGE="$registry/iot-consumer:1" SENSOR_SIMULATOR_IMAGE="$registry/sensor-simulator:1"
piswarm stack deploy stacks/iot.yml
SENSOR_COUNT=500 piswarm stack deploy stacks/iot-simulator.yml

# Day two: scale, drain a node without stopping anything, and take it out of the swarm.
piswarm service scale web=2 consumer=4
piswarm node drain "$last" --surge
piswarm node rm "$last" --yes
piswarm node ls
# What quietly breaks Pi swarms; a fresh lab node has no time sync and no log rotation: warnings only (exit 4).
piswarm doctor || [ $? -eq 4 ]

first=${ips%%,*}
echo
echo "Log in with your SSH key: ssh pirate@$first   (bootstrap put it in, replaced the password hypriot and turned SSH password login off)"
echo "hello-world answers on port 8080 of every node, e.g.: curl http://$first:8080/"
curl -s "http://$first:8080/" || true
echo "The IoT consumers processed the simulator's readings: piswarm logs consumer; piswarm stack ps iot"
echo "$last left the swarm (it stays in piswarm.yaml): piswarm bootstrap --only $last joins it again."
echo "When done: piswarm lab down --name $name; bash scripts/lab-rabbitmq.sh stop $broker 5672"
