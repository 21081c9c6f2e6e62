#!/usr/bin/env bash
# Runs every test, unit and lab alike, and ends with a plain "N passed, N failed" line.
# Needs root: the lab tests build namespaces, bridges and daemons. Missing Debian packages of
# scripts/system-packages.txt (its lab, demo and test parts) are installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-packages.sh lab demo test
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
mkdir -p .test-tmp
rm -f .test-tmp/results.json
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-tmp/results.json "$@"
status=$?
set -e
if [ -f .test-tmp/results.json ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(".test-tmp/results.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));'
else
  echo "vitest wrote no results (exit $status)"
fi
exit "$status"
