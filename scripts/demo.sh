#!/usr/bin/env bash
# The main job on a fresh machine, on the built-in virtual lab: install and build piswarm, start a
# lab of simulated Raspberry Pis (real dockerd and sshd), secure them and form a swarm
# (bootstrap), build the images into the lab registry as multi-platform manifest lists (no buildx,
# no Docker Hub), deploy hello-world, and run the IoT stack
# against a RabbitMQ broker outside the swarm (Debian's, on this machine). Needs root.
# Extra arguments go to `lab up` (e.g. --nodes 5). The inventory is ./piswarm.yaml. Missing Debian
# packages of scripts/system-packages.txt (its lab and demo parts) are installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-packages.sh lab demo
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
echo "Building the images into the lab registry ($registry) as manifest lists: bases from Debian, one engine build per platform..."
bash scripts/lab-images.sh "$name" pi-01 "$registry" >/dev/null
HELLO_IMAGE="$registry/hello-world:1" HELLO_PORT_MODE=host piswarm stack deploy stacks/hello-world.yml -c stacks/hello-world.lab.yml

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
piswarm node drain pi-03 --surge
piswarm node rm pi-03 --yes
piswarm node ls
# What quietly breaks Pi swarms; a fresh lab node has no time sync and no log rotation: warnings only (exit 4).
piswarm doctor || [ $? -eq 4 ]

first=${ips%%,*}
echo
echo "Log in with your SSH key: ssh pirate@$first   (bootstrap put it in, replaced the password hypriot and turned SSH password login off)"
echo "hello-world answers on port 8080 of every node, e.g.: curl http://$first:8080/"
curl -s "http://$first:8080/" || true
echo "The IoT consumers processed the simulator's readings: piswarm logs consumer; piswarm stack ps iot"
echo "pi-03 left the swarm (it stays in piswarm.yaml): piswarm bootstrap --only pi-03 joins it again."
echo "When done: piswarm lab down --name $name; bash scripts/lab-rabbitmq.sh stop $broker 5672"
