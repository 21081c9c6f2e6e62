import { shq } from './shell-quote.js';

/**
 * Reads of swarm state go to the engine's API with curl where possible: one small process instead
 * of a docker CLI start (a tenth of a second of a Pi's CPU each), the same JSON as `docker
 * inspect`. `has_api` says whether it can (curl, the local socket); `dapi PATH` prints the body,
 * or the engine's message on stderr and fails.
 */
const ENGINE_API_HELPERS = [
  'has_api() { [ -z "${DOCKER_HOST:-}" ] && [ -S /var/run/docker.sock ] && command -v curl >/dev/null; }',
  // as_root only when the socket is not the user's: curl itself then runs under sudo.
  'api_get() { _sudo=; [ -w /var/run/docker.sock ] || _sudo=as_root; $_sudo curl -sS --unix-socket /var/run/docker.sock -w "\\n%{http_code}" "http://docker$1"; }',
  `dapi() { out=$(api_get "$1") || return 1; code=\${out##*\n}; body=\${out%\n*}; if [ "$code" -ge 400 ]; then printf '%s\\n' "$body" >&2; return 1; fi; printf '%s\\n' "$body"; }`,
];

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
  ...ENGINE_API_HELPERS,
].join('\n');

/** A script run as root in one sudo (each sudo costs a PAM session), stopping at the first failure. */
export function rootScript(...lines: string[]): string {
  return remoteScript(`as_root sh -c ${shq(['set -e', ...lines].join('\n'))}`);
}

/** A script body run after the helpers, stopping at the first failing command. */
export function remoteScript(...lines: string[]): string {
  return [REMOTE_HELPERS, 'set -e', ...lines].join('\n');
}

/**
 * A long-running command (docker events, logs -f) that ends when its stdin closes: sshd leaves a
 * command running when the client closes the channel, so piswarm closes stdin instead, and a
 * watcher ends the command's whole process group (sshd makes each command a session of its own).
 */
export function endsWithStdin(...lines: string[]): string {
  // A background job's stdin is /dev/null unless it has its own: the watcher reads a copy (fd 3).
  return remoteScript('exec 3<&0', '(cat <&3 >/dev/null; kill -TERM 0) >/dev/null 2>&1 &', 'exec 3<&-', ...lines);
}
