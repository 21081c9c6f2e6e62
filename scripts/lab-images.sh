#!/usr/bin/env bash
# Builds the images in images/ on a lab node and pushes them to the lab registry. The lab has no
# Docker Hub, so the bases are made from this machine's programs with `docker import`: busybox
# (busybox-static) for hello-world, Node.js (this node binary and its libraries) for the IoT
# images. Used by the demo, tests and benches.
#   lab-images.sh LAB NODE REGISTRY   (PISWARM_LAB_ROOT as for the lab)
set -euo pipefail
lab=$1 node=$2 registry=$3
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$here" && npm run --silent build:images >/dev/null)

mkdir -p "$work/busybox/bin"
cp /bin/busybox "$work/busybox/bin/"
for applet in sh httpd wget hostname cat printf sleep; do ln -s busybox "$work/busybox/bin/$applet"; done
tar -C "$work/busybox" -cf "$work/busybox.tar" .

nodejs=$(readlink -f "$(command -v node)")
mkdir -p "$work/node/usr/bin" "$work/node/tmp"
cp "$nodejs" "$work/node/usr/bin/node"
for lib in $(ldd "$nodejs" | grep -o '/[^ ]*'); do mkdir -p "$work/node$(dirname "$lib")" && cp -L "$lib" "$work/node$lib"; done
tar -C "$work/node" -cf "$work/node.tar" .

# registry:2.8 as the official image is made (same binary, config path and command), from
# Debian's docker-registry, so stacks/registry.yml runs unchanged in the lab.
registry_bin=$(command -v docker-registry)
mkdir -p "$work/registry/usr/bin" "$work/registry/etc/docker/registry" "$work/registry/var/lib/registry" "$work/registry/tmp"
cp "$registry_bin" "$work/registry/usr/bin/registry"
for lib in $(ldd "$registry_bin" | grep -o '/[^ ]*'); do mkdir -p "$work/registry$(dirname "$lib")" && cp -L "$lib" "$work/registry$lib"; done
printf '%s\n' 'version: 0.1' 'storage: {filesystem: {rootdirectory: /var/lib/registry}}' 'http: {addr: ":5000"}' > "$work/registry/etc/docker/registry/config.yml"
tar -C "$work/registry" -cf "$work/registry.tar" .

# The build's own chatter (the legacy builder's notice) is shown only when it fails.
build() { echo "{ docker build -q -t $registry/$1:1 --build-arg BASE=$registry/$2:lab $here/images/$1 >/dev/null 2>$work/$1.err || { cat $work/$1.err >&2; exit 1; }; } && docker push -q $registry/$1:1 >/dev/null"; }
node "$here/dist/cli/main.js" lab exec "$node" --name "$lab" -- sh -c "
  docker import - $registry/busybox:lab < $work/busybox.tar >/dev/null && docker push -q $registry/busybox:lab >/dev/null &&
  docker import - $registry/node:lab < $work/node.tar >/dev/null && docker push -q $registry/node:lab >/dev/null &&
  docker import --change 'CMD [\"/usr/bin/registry\", \"serve\", \"/etc/docker/registry/config.yml\"]' - $registry/registry:lab < $work/registry.tar >/dev/null && docker push -q $registry/registry:lab >/dev/null &&
  $(build hello-world busybox) && $(build iot-consumer node) && $(build sensor-simulator node)"
printf '%s\n' "$registry/hello-world:1" "$registry/iot-consumer:1" "$registry/sensor-simulator:1" "$registry/registry:lab"
