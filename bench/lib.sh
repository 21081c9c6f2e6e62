# Shared by the benchmarks (sourced): root check and missing Debian packages.

# needs_root WHY: stops unless running as root.
needs_root() {
  [ "$(id -u)" = 0 ] || { echo "The benchmark needs root ($1)." >&2; exit 1; }
}

# install_missing PROGRAM:PACKAGE...: installs the packages whose program is not on the PATH.
install_missing() {
  local need=() p
  for p in "$@"; do command -v "${p%%:*}" >/dev/null || need+=("${p##*:}"); done
  [ ${#need[@]} -eq 0 ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
}
