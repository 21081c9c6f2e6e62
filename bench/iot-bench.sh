#!/usr/bin/env bash
# IoT consumer throughput with acks against a real RabbitMQ (Debian's, on this machine):
# piswarm's iot-consumer, one process, against the plainest amqplib consumer with the same
# prefetch; then 1 → 3 consumers. Once with no work per message (the broker is the bound) and
# once with 5 ms of I/O-like work per message (the consumers are). Needs root.
# Run: npm run bench -- iot
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-60000}
PREFETCH=16
PORT=5674
DIR=$(mktemp -d /tmp/piswarm-iot-bench.XXXXXX)
URL="amqp://iot:bench@127.0.0.1:$PORT"
source bench/lib.sh
bench_prerequisites "it runs rabbitmq-server"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build:images
cleanup() {
  pkill -f "iot-consumer/dist/consumer.mjs" 2>/dev/null || true
  bash scripts/lab-rabbitmq.sh stop "$DIR/broker" "$PORT"
  rm -rf "$DIR"
}
trap cleanup EXIT
bash scripts/lab-rabbitmq.sh start "$DIR/broker" "$PORT" iot <<< bench

publish() { AMQP_URL=$URL COUNT=$COUNT RATE=0 node images/sensor-simulator/dist/simulator.mjs >/dev/null; }
# Both are timed the same way: from starting the process(es) until COUNT messages are acked.
seconds_since() { echo "scale=3; ($(date +%s%N) - $1) / 1000000000" | bc; }
bare() {
  local start
  start=$(date +%s%N)
  node bench/iot/bare-consumer.mjs "$URL" sensor-readings "$PREFETCH" "$COUNT" "$1"
  seconds_since "$start"
}
# Seconds for N piswarm consumers (separate processes, like replicas) to process COUNT messages.
ours() {
  local n=$1 work=$2 start i total
  start=$(date +%s%N)
  for i in $(seq "$n"); do
    AMQP_URL=$URL PREFETCH=$PREFETCH WORK_MS=$work ANNOUNCE_PROCESSED=$ANNOUNCE HEALTH_PORT=$((18100 + i)) CONSUMER_NAME=bench-$i node images/iot-consumer/dist/consumer.mjs >/dev/null &
  done
  while :; do
    total=0
    for i in $(seq "$n"); do total=$((total + $(curl -s "localhost:$((18100 + i))/health" | sed -n 's/.*"processed":\([0-9]*\).*/\1/p' || echo 0))); done
    [ "$total" -lt "$COUNT" ] || break
    sleep 0.02
  done
  seconds_since "$start"
  pkill -TERM -f "iot-consumer/dist/consumer.mjs"; wait 2>/dev/null || true
}
rate() { echo "scale=0; $COUNT / $1" | bc; }

# ANNOUNCE=0: like the bare consumer, only ack (the iot stack also announces each processed id).
ANNOUNCE=${ANNOUNCE:-0}
for work in 0 5; do
  echo "== $COUNT messages, prefetch $PREFETCH, ${work} ms of work per message, announcements $([ "$ANNOUNCE" = 0 ] && echo off || echo on) =="
  publish; b=$(bare "$work")
  publish; one=$(ours 1 "$work")
  publish; three=$(ours 3 "$work")
  printf '  bare amqplib consumer   %7.2f s  %6d msg/s\n' "$b" "$(rate "$b")"
  printf '  piswarm consumer x1     %7.2f s  %6d msg/s\n' "$one" "$(rate "$one")"
  printf '  piswarm consumer x3     %7.2f s  %6d msg/s\n' "$three" "$(rate "$three")"
  echo "  piswarm x1 / bare: $(printf '%.3f' "$(echo "scale=4; $b / $one" | bc)") (goal >= 0.9);  x3 / x1: $(printf '%.3f' "$(echo "scale=4; $one / $three" | bc)") (goal >= 2.5 until the broker bounds it)"
done
