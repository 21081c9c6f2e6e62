#!/usr/bin/env bash
# An ARM (linux/arm64) build of images/hello-world in the lab registry, to run under qemu on the
# lab's amd64 nodes: busybox-static for arm64 from Debian as the base, the same Dockerfile, and
# the image relabelled arm64 (engine 20.10 records the daemon's own architecture on what it
# builds or imports). Prints the image reference.
#   lab-arm-image.sh LAB NODE REGISTRY   (PISWARM_LAB_ROOT as for the lab)
set -euo pipefail
lab=$1 node=$2 registry=$3
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
image=$registry/hello-world:1-arm64

if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; fi
(cd "$work" && { apt-get download -q busybox-static:arm64 >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q busybox-static:arm64 >/dev/null; }; })
dpkg-deb -x "$work"/busybox-static_*_arm64.deb "$work/deb"
mkdir -p "$work/root/bin"
cp "$work/deb/bin/busybox" "$work/root/bin/"
for applet in sh httpd wget hostname cat printf sleep uname; do ln -s busybox "$work/root/bin/$applet"; done
tar -C "$work/root" -cf "$work/base.tar" .

lab_exec() { node "$here/dist/cli/main.js" lab exec "$node" --name "$lab" -- sh -c "$1"; }
lab_exec "docker import - piswarm-lab/busybox-arm64 < $work/base.tar >/dev/null &&
  docker build -q -t piswarm-lab/hello-world-arm64 --build-arg BASE=piswarm-lab/busybox-arm64 $here/images/hello-world >/dev/null 2>$work/build.err &&
  docker save piswarm-lab/hello-world-arm64 -o $work/image.tar" || { cat "$work/build.err" >&2; exit 1; }

# Relabel: set the config's architecture, rename the config after its new digest, point the
# manifest at it.
mkdir "$work/image" && tar -C "$work/image" -xf "$work/image.tar"
python3 - "$work/image" "$image" <<'PY'
import hashlib, json, os, sys
root, ref = sys.argv[1], sys.argv[2]
manifest = json.load(open(os.path.join(root, 'manifest.json')))
old = manifest[0]['Config']
config = json.load(open(os.path.join(root, old)))
config['architecture'] = 'arm64'
data = json.dumps(config).encode()
new = hashlib.sha256(data).hexdigest() + '.json'
open(os.path.join(root, new), 'wb').write(data)
os.remove(os.path.join(root, old))
manifest[0]['Config'] = new
manifest[0]['RepoTags'] = [ref]
json.dump(manifest, open(os.path.join(root, 'manifest.json'), 'w'))
os.remove(os.path.join(root, 'repositories')) if os.path.exists(os.path.join(root, 'repositories')) else None
PY
tar -C "$work/image" -cf "$work/arm64.tar" .
lab_exec "docker load -q -i $work/arm64.tar >/dev/null && docker push -q $image >/dev/null"
echo "$image"
