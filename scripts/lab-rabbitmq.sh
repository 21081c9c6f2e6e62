#!/usr/bin/env bash
# A private RabbitMQ broker (Debian's rabbitmq-server) on this machine, listening on every
# address, so lab nodes reach it at their bridge's gateway: the iot stack's external broker in
# the demo, tests and benchmarks (rabbitmq-server: scripts/install-packages.sh demo installs it,
# without starting the system's own broker).
#   lab-rabbitmq.sh start DIR PORT USER < PASSWORD   (returns once it accepts connections; the
#                                                     password on stdin, never in an argument)
#   lab-rabbitmq.sh stop DIR PORT
set -euo pipefail
command=$1 dir=$2 port=$3

setup_env() {
  # rabbitmqctl against a stopped broker would leave an erl_crash.dump in the current folder.
  export ERL_CRASH_DUMP_SECONDS=0
  export HOME=$dir RABBITMQ_NODENAME=piswarm$port@localhost RABBITMQ_NODE_PORT=$port \
    RABBITMQ_DIST_PORT=$((port + 20000)) RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
    RABBITMQ_PID_FILE=$dir/rabbit.pid RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
    RABBITMQ_CONFIG_FILE=$dir/rabbitmq
}
ctl() { /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }

case $command in
  start)
    user=$4
    IFS= read -r password || [ -n "$password" ] || { echo 'lab-rabbitmq.sh start: give the password on standard input.' >&2; exit 64; }
    if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
      echo "rabbitmq-server is not installed: run \`bash $(dirname "$0")/install-packages.sh demo\` first." >&2
      exit 1
    fi
    mkdir -p "$dir"
    setup_env
    echo '[].' > "$dir/enabled_plugins"
    # A Pi-sized broker: small memory watermark, no disk alarm surprises on a test machine.
    printf 'vm_memory_high_watermark.absolute = 512MB\ndisk_free_limit.absolute = 50MB\n' > "$dir/rabbitmq.conf"
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached >/dev/null 2>&1
    ctl wait --timeout 60 "$dir/rabbit.pid" >/dev/null
    # Read from stdin by rabbitmqctl too: an argument would show in ps on this machine.
    printf '%s\n' "$password" | ctl add_user "$user" >/dev/null
    ctl set_permissions -p / "$user" '.*' '.*' '.*' >/dev/null
    ;;
  stop)
    setup_env
    ctl stop "$dir/rabbit.pid" >/dev/null 2>&1 || { [ -f "$dir/rabbit.pid" ] && kill -9 "$(cat "$dir/rabbit.pid")" 2>/dev/null || true; }
    # epmd was started for this broker; no other Erlang node runs on a lab machine.
    epmd -kill >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: lab-rabbitmq.sh start DIR PORT USER < PASSWORD | stop DIR PORT" >&2; exit 64 ;;
esac
