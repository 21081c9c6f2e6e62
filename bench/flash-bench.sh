#!/usr/bin/env bash
# Flash benchmark: piswarm against the by-hand way (sha256sum + unzip/xz | dd + read-back) and
# bmaptool, on an emulated SD card: a direct-I/O loop device throttled in the root blkio cgroup
# to 20 MB/s writes and 45 MB/s reads, like a real card. Needs root. Run: npm run bench -- flash
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/piswarm-bench}
WRITE_BPS=${WRITE_BPS:-20000000}
READ_BPS=${READ_BPS:-45000000}
IMG="$BENCH_DIR/pi-os-like.img"
CARD="$BENCH_DIR/card.bin"

source bench/lib.sh
card_bench_setup

# A ~1 GiB image shaped like Raspberry Pi OS: MBR, 256 MiB FAT32 boot, ext4 root with real files
# (/usr/share), about 60% of its blocks zero. Built once and kept in $BENCH_DIR.
if [ ! -f "$IMG.xz" ] || [ ! -f "$IMG.zip" ]; then
  echo "Building the benchmark image (once)..."
  rm -f "$IMG"*
  truncate -s 1024M "$IMG"
  printf 'label: dos\nstart=8192, size=524288, type=c\nstart=532480, type=83\n' | sfdisk -q "$IMG"
  truncate -s 256M "$BENCH_DIR/boot.vfat"
  mkfs.fat -F 32 -n bootfs "$BENCH_DIR/boot.vfat" >/dev/null
  head -c 24M /dev/urandom > "$BENCH_DIR/kernel8.img"
  printf '#cloud-config\n# hypriot-like\nhostname: black-pearl\nusers:\n  - name: pirate\n    plain_text_passwd: hypriot\n' > "$BENCH_DIR/user-data"
  printf 'instance-id: iid-local01\n' > "$BENCH_DIR/meta-data"
  printf 'console=tty1 root=PARTUUID=0-02 rootwait\n' > "$BENCH_DIR/cmdline.txt"
  for f in kernel8.img user-data meta-data cmdline.txt; do mcopy -i "$BENCH_DIR/boot.vfat" "$BENCH_DIR/$f" "::$f"; done
  dd if="$BENCH_DIR/boot.vfat" of="$IMG" bs=4M seek=1 conv=notrunc,sparse status=none
  # Real files, but a fixed amount (~380 MB) whatever this machine has installed.
  rm -rf "$BENCH_DIR/rootfs" && mkdir -p "$BENCH_DIR/rootfs"
  find /usr/share /usr/lib -type f -size -8M -printf '%s %p\n' 2>/dev/null | sort -k2 | awk '{ t += $1; if (t <= 380000000) print $2 }' > "$BENCH_DIR/files"
  xargs -a "$BENCH_DIR/files" -d '\n' cp --parents -t "$BENCH_DIR/rootfs"
  mkfs.ext4 -q -F -N $(( $(wc -l < "$BENCH_DIR/files") * 2 + 20000 )) -d "$BENCH_DIR/rootfs" "$BENCH_DIR/root.ext4" 767M
  rm -rf "$BENCH_DIR/rootfs" "$BENCH_DIR/files"
  dd if="$BENCH_DIR/root.ext4" of="$IMG" bs=1M seek=260 conv=notrunc,sparse status=none
  rm -f "$BENCH_DIR/boot.vfat" "$BENCH_DIR/root.ext4" "$BENCH_DIR/kernel8.img" "$BENCH_DIR"/{user-data,meta-data,cmdline.txt}
  (cd "$BENCH_DIR" && zip -q "$(basename "$IMG").zip" "$(basename "$IMG")")
  xz -T2 -3 -k "$IMG"
  for f in "$IMG.zip" "$IMG.xz"; do (cd "$BENCH_DIR" && sha256sum "$(basename "$f")" > "$(basename "$f").sha256"); done
  # bmaptool's best case: a bmap made from a sparse copy of the image.
  cp --sparse=always "$IMG" "$BENCH_DIR/sparse.img"
  bmaptool -q create -o "$IMG.bmap" "$BENCH_DIR/sparse.img"
  rm -f "$BENCH_DIR/sparse.img"
fi
SIZE=$(stat -c %s "$IMG")
ZERO_PCT=$(python3 - "$IMG" <<'PY'
import sys
zero = total = 0
with open(sys.argv[1], 'rb') as f:
    while chunk := f.read(65536):
        total += 1
        zero += chunk.count(0) == len(chunk)
print(round(100 * zero / total))
PY
)

LOOP=""
MAJMIN=""
cleanup() {
  if [ -n "$MAJMIN" ]; then
    throttle "$MAJMIN" 0 0 || true
  fi
  [ -z "$LOOP" ] || losetup -d "$LOOP" || true
  rm -f "$CARD"
}
trap cleanup EXIT

# A fresh card for each contender: 1.2 GiB of 0xFF (what an erased flash page often reads as).
new_card() {
  cleanup
  head -c 1287651328 /dev/zero | tr '\000' '\377' > "$CARD"
  LOOP=$(losetup --direct-io=on -f --show "$CARD")
  MAJMIN=$(cat "/sys/class/block/$(basename "$LOOP")/dev")
  throttle "$MAJMIN" "$WRITE_BPS" "$READ_BPS"
}

results=()
# run NAME COMMAND...: wall time, bytes read/written at the card, peak RSS of the command tree's biggest process.
run() {
  local name=$1; shift
  new_card
  local stat_before stat_after start end
  local command=${*//@CARD@/$LOOP}
  stat_before=($(cat "/sys/block/$(basename "$LOOP")/stat"))
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$BENCH_DIR/rss" bash -c "$command" >"$BENCH_DIR/$name.log" 2>&1 || { echo "$name failed:"; tail -5 "$BENCH_DIR/$name.log"; exit 1; }
  end=$(date +%s.%N)
  stat_after=($(cat "/sys/block/$(basename "$LOOP")/stat"))
  local secs read written rss
  secs=$(echo "$end - $start" | bc)
  read=$(( (stat_after[2] - stat_before[2]) * 512 ))
  written=$(( (stat_after[6] - stat_before[6]) * 512 ))
  rss=$(cat "$BENCH_DIR/rss")
  results+=("$name|$secs|$written|$read|$rss")
  printf '%-22s %7.1f s  written %5d MB  read %5d MB  peak RSS %4d MB\n' "$name" "$secs" $((written / 1000000)) $((read / 1000000)) $((rss / 1024))
}

BLOCKS=$(( (SIZE + 4194303) / 4194304 ))
# By hand: check the archive, write every block with dd, then read the card back and hash it.
readback="dd if=@CARD@ bs=4M count=$BLOCKS iflag=direct status=none | head -c $SIZE | sha256sum"
check() { echo "(cd $BENCH_DIR && sha256sum --quiet -c $(basename "$IMG").$1.sha256)"; }
echo "Image: $((SIZE / 1048576)) MiB, ${ZERO_PCT}% zero; card: ${WRITE_BPS} B/s write, ${READ_BPS} B/s read"
run "by-hand zip" "$(check zip) && unzip -p $IMG.zip | dd of=@CARD@ bs=4M iflag=fullblock oflag=direct status=none && $readback"
run "by-hand xz" "$(check xz) && xz -dc $IMG.xz | dd of=@CARD@ bs=4M iflag=fullblock oflag=direct status=none && $readback"
run "bmaptool xz" "bmaptool -q copy --bmap $IMG.bmap $IMG.xz @CARD@"
run "piswarm zip" "$PISWARM flash $IMG.zip --device @CARD@ --hostname bench --force --yes --inventory $BENCH_DIR/piswarm.yaml"
run "piswarm xz" "$PISWARM flash $IMG.xz --device @CARD@ --hostname bench --force --yes --inventory $BENCH_DIR/piswarm.yaml"

secs_of() { for r in "${results[@]}"; do IFS='|' read -r n s _ <<<"$r"; [ "$n" = "$1" ] && echo "$s"; done; }
ratio() { printf "%.3f" "$(echo "scale=4; $(secs_of "$1") / $(secs_of "$2")" | bc)"; }
echo
echo "etcher-sdk: not measured (its published package does not install on Node 20 here; see shared/ECOSYSTEM.md)"
echo "Ratios (wall time; goals: <= 0.50 vs by hand, <= 1.50 vs bmaptool):"
echo "  piswarm zip / by-hand zip:  $(ratio 'piswarm zip' 'by-hand zip')"
echo "  piswarm xz  / by-hand xz:   $(ratio 'piswarm xz' 'by-hand xz')"
echo "  piswarm xz  / bmaptool xz:  $(ratio 'piswarm xz' 'bmaptool xz')"
