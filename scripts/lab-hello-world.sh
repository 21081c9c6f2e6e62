#!/usr/bin/env bash
# Builds images/hello-world on a lab node and pushes it to the lab registry, on a busybox base
# made from this machine's busybox-static (the lab has no Docker Hub). Used by the demo, tests and benches.
#   lab-hello-world.sh LAB NODE REGISTRY   (PISWARM_LAB_ROOT as for the lab)
set -euo pipefail
lab=$1 node=$2 registry=$3
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin"
cp /bin/busybox "$work/root/bin/"
for applet in sh httpd wget hostname cat printf sleep; do ln -s busybox "$work/root/bin/$applet"; done
tar -C "$work/root" -cf "$work/busybox.tar" .
node "$here/dist/cli/main.js" lab exec "$node" --name "$lab" -- sh -c "
  docker import - $registry/busybox:lab < $work/busybox.tar >/dev/null &&
  docker push -q $registry/busybox:lab >/dev/null &&
  { docker build -q -t $registry/hello-world:1 --build-arg BASE=$registry/busybox:lab $here/images/hello-world >/dev/null 2>$work/build.err || { cat $work/build.err >&2; exit 1; }; } &&
  docker push -q $registry/hello-world:1 >/dev/null"
echo "$registry/hello-world:1"
