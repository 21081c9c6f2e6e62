#!/usr/bin/env bash
# Runs the benchmarks: all of them, or those named (npm run bench -- discover).
set -euo pipefail
cd "$(dirname "$0")"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(flash flash-parallel discover bootstrap stack iot drain dashboard node-cost)
for name in "${names[@]}"; do
  [ -f "$name-bench.sh" ] || { echo "No benchmark named '$name' (there are: $(ls ./*-bench.sh | sed 's|^\./||; s|-bench\.sh$||' | paste -sd' '))." >&2; exit 64; }
  echo "== $name =="
  bash "$name-bench.sh"
done
