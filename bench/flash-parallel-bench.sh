#!/usr/bin/env bash
# Parallel flash benchmark (what `piswarm init` does with several card readers): N cards written
# at once through N readers, against the same N cards one after another, and against one card
# alone. Each reader is an emulated SD card: a direct-I/O loop device throttled in the root blkio
# cgroup to 20 MB/s writes and 45 MB/s reads. Goal: N in parallel within 1.2× one card.
# Needs root. Run: npm run bench -- flash-parallel   (CARDS=4 for four readers)
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/var/tmp/piswarm-bench}
CARDS=${CARDS:-3}
# The cards' backing files live in memory: each emulated reader is then held only by its own
# throttle, as USB readers on their own ports are, not by this machine's disk.
CARD_DIR=${CARD_DIR:-/dev/shm}
WRITE_BPS=${WRITE_BPS:-20000000}
READ_BPS=${READ_BPS:-45000000}
IMG="$BENCH_DIR/parallel.img"

source bench/lib.sh
card_bench_setup

# A HypriotOS-shaped image: MBR, 64 MiB FAT32 boot with user-data, a root of 96 MiB random data
# (incompressible, like binaries), the rest zeros. Built once and kept.
if [ ! -f "$IMG.sha256" ]; then
  echo "Building the benchmark image (once)..."
  rm -f "$IMG"*
  truncate -s 256M "$IMG"
  printf 'label: dos\nstart=2048, size=131072, type=c\nstart=133120, type=83\n' | sfdisk -q "$IMG"
  truncate -s 64M "$BENCH_DIR/pboot.vfat"
  mkfs.fat -F 32 -n HypriotOS "$BENCH_DIR/pboot.vfat" >/dev/null
  printf '#cloud-config\nhostname: black-pearl\nusers:\n  - name: pirate\n    plain_text_passwd: hypriot\n' > "$BENCH_DIR/user-data"
  printf 'instance-id: iid-local01\n' > "$BENCH_DIR/meta-data"
  for f in user-data meta-data; do mcopy -i "$BENCH_DIR/pboot.vfat" "$BENCH_DIR/$f" "::$f"; done
  dd if="$BENCH_DIR/pboot.vfat" of="$IMG" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if=/dev/urandom of="$IMG" bs=1M seek=65 count=96 conv=notrunc status=none
  rm -f "$BENCH_DIR/pboot.vfat" "$BENCH_DIR/user-data" "$BENCH_DIR/meta-data"
  (cd "$BENCH_DIR" && sha256sum "$(basename "$IMG")" > "$(basename "$IMG").sha256")
fi

LOOPS=()
MAJMINS=()
cleanup() {
  for m in "${MAJMINS[@]}"; do
    throttle "$m" 0 0 || true
  done
  for l in "${LOOPS[@]}"; do losetup -d "$l" || true; done
  LOOPS=() MAJMINS=()
  rm -f "$CARD_DIR"/piswarm-pcard-*.bin
}
trap cleanup EXIT

# Fresh cards for each contender: 320 MiB of 0xFF each (what an erased flash page often reads as).
new_cards() {
  cleanup
  for i in $(seq 1 "$CARDS"); do
    head -c 335544320 /dev/zero | tr '\000' '\377' > "$CARD_DIR/piswarm-pcard-$i.bin"
    local loop majmin
    loop=$(losetup --direct-io=on -f --show "$CARD_DIR/piswarm-pcard-$i.bin")
    majmin=$(cat "/sys/class/block/$(basename "$loop")/dev")
    throttle "$majmin" "$WRITE_BPS" "$READ_BPS"
    LOOPS+=("$loop") MAJMINS+=("$majmin")
  done
  # The fresh cards' own bytes reach the disk before the clock starts, not during a contender's run.
  sync
}

flash() { node "$PISWARM" flash "$IMG" --force --yes --inventory "$BENCH_DIR/parallel.yaml" "$@" >>"$BENCH_DIR/parallel.log" 2>&1; }
one_after_another() { for i in "${!LOOPS[@]}"; do flash --device "${LOOPS[$i]}" --hostname "card-0$((i + 1))"; done; }
hostnames() { seq -f 'card-%02g' 1 "$1" | paste -sd,; }
timed() { local start; start=$(date +%s.%N); "$@"; echo "$(date +%s.%N) - $start" | bc; }

: > "$BENCH_DIR/parallel.log"
echo "Image: 256 MiB (96 MiB of data); $CARDS emulated readers at $WRITE_BPS B/s write, $READ_BPS B/s read"
new_cards
one=$(timed flash --device "${LOOPS[0]}" --hostname card-01)
new_cards
sequential=$(timed one_after_another)
new_cards
parallel=$(timed flash --device "${LOOPS[@]}" --hostname "$(hostnames "$CARDS")")
printf '%-34s %6.1f s\n' "one card" "$one" "$CARDS cards one after another" "$sequential" "$CARDS cards in parallel ($CARDS readers)" "$parallel"
echo "Ratios (wall time; goal: parallel <= 1.20 x one card):"
printf '  parallel / one card:           %.3f\n' "$(echo "scale=4; $parallel / $one" | bc)"
printf '  parallel / one after another:  %.3f\n' "$(echo "scale=4; $parallel / $sequential" | bc)"
