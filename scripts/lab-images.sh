#!/usr/bin/env bash
# Builds the images in images/ as real multi-platform images in the lab registry, as a user
# without buildx or Docker Hub would: `piswarm images base` makes the busybox and Node.js bases
# from Debian's packages for every Pi platform (on this machine), then a lab node builds every
# image for every platform its base has with `piswarm images build` on its own engine, each
# pushed by digest, the tags (manifest lists) last. Used by the demo, tests and benches.
#   lab-images.sh LAB NODE REGISTRY   (PISWARM_LAB_ROOT as for the lab)
set -euo pipefail
lab=$1 node=$2 registry=$3
here=$(cd "$(dirname "$0")/.." && pwd)
piswarm() { node "$here/dist/cli/main.js" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Quiet unless it fails: the callers print only the image names.
quiet() { "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }; }
quiet piswarm images base busybox --push "$registry"
quiet piswarm images base node --push "$registry"
quiet piswarm lab exec "$node" --name "$lab" -- sh -c "cd '$here' && HOME='$work' node dist/cli/main.js images build --push '$registry' --base-from '$registry' --builder local"

# registry:2.8 as the official image is made (same binary, config path and command), from
# Debian's docker-registry, so stacks/registry.yml runs unchanged in the lab (amd64 only: the
# lab's own architecture).
registry_bin=$(command -v docker-registry)
mkdir -p "$work/registry/usr/bin" "$work/registry/etc/docker/registry" "$work/registry/var/lib/registry" "$work/registry/tmp"
cp "$registry_bin" "$work/registry/usr/bin/registry"
for lib in $(ldd "$registry_bin" | grep -o '/[^ ]*'); do mkdir -p "$work/registry$(dirname "$lib")" && cp -L "$lib" "$work/registry$lib"; done
printf '%s\n' 'version: 0.1' 'storage: {filesystem: {rootdirectory: /var/lib/registry}}' 'http: {addr: ":5000"}' > "$work/registry/etc/docker/registry/config.yml"
tar -C "$work/registry" -cf "$work/registry.tar" .
quiet piswarm lab exec "$node" --name "$lab" -- sh -c "
  docker import --change 'CMD [\"/usr/bin/registry\", \"serve\", \"/etc/docker/registry/config.yml\"]' - $registry/registry:lab < $work/registry.tar >/dev/null && docker push -q $registry/registry:lab >/dev/null"
printf '%s\n' "$registry/hello-world:1" "$registry/iot-consumer:1" "$registry/sensor-simulator:1" "$registry/registry:lab"
