#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and bring up the built-in virtual home lab
# (simulated Raspberry Pis with real dockerd and sshd). Needs root. Extra arguments go to `lab up`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
node dist/cli/main.js lab up "$@"
