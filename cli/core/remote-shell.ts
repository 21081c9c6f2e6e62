/**
 * Shell functions every piswarm script on a node starts with. `as_root` uses sudo only when the
 * login user is not root, and never waits for a sudo password (-n): HypriotOS and Raspberry Pi OS
 * give their first user passwordless sudo. `dk` is docker as the user when the user may use it
 * (group docker), else through sudo.
 */
export const REMOTE_HELPERS = [
  'as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }',
  'dk() { if docker version >/dev/null 2>&1; then docker "$@"; else as_root docker "$@"; fi; }',
].join('\n');

/** A script body run after the helpers, stopping at the first failing command. */
export function remoteScript(...lines: string[]): string {
  return [REMOTE_HELPERS, 'set -e', ...lines].join('\n');
}
