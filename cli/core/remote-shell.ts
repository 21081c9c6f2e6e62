import { shq } from './shell-quote.js';

/**
 * Shell functions every piswarm script on a node starts with. `as_root` uses sudo only when the
 * login user is not root, and never waits for a sudo password (-n): HypriotOS and Raspberry Pi OS
 * give their first user passwordless sudo. `dk` is docker as the user when the user may use the
 * engine's socket (group docker), else through sudo; checked on the socket, not by running docker
 * (each docker CLI start costs a Pi a tenth of a second).
 */
export const REMOTE_HELPERS = [
  'as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }',
  'dk() { if [ -n "${DOCKER_HOST:-}" ] || [ -w /var/run/docker.sock ]; then docker "$@"; else as_root docker "$@"; fi; }',
].join('\n');

/** A script run as root in one sudo (each sudo costs a PAM session), stopping at the first failure. */
export function rootScript(...lines: string[]): string {
  return remoteScript(`as_root sh -c ${shq(['set -e', ...lines].join('\n'))}`);
}

/** A script body run after the helpers, stopping at the first failing command. */
export function remoteScript(...lines: string[]): string {
  return [REMOTE_HELPERS, 'set -e', ...lines].join('\n');
}
