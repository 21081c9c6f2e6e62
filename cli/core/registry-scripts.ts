import { remoteScript, rootScript } from './remote-shell.js';
import { shq } from './shell-quote.js';

/** The port the swarm's registry publishes (stacks/registry.yml). */
export const REGISTRY_PORT = 5000;

/** An IPv4 address or a host name: what may become a folder under /etc/docker/certs.d. */
const REGISTRY_NAME = /^(\d{1,3}(\.\d{1,3}){3}|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/i;

export function assertRegistryNames(names: readonly string[]): void {
  const bad = names.find((n) => !REGISTRY_NAME.test(n));
  if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a host name or IPv4 address`);
}

/**
 * Makes the node's Docker trust the home CA for the registry under each of its names
 * (/etc/docker/certs.d/NAME:PORT/ca.crt, read at every pull: no restart). The CA certificate
 * arrives on stdin. Prints "changed" or "unchanged".
 */
export function trustRegistryScript(names: readonly string[]): string {
  assertRegistryNames(names);
  const dirs = names.map((n) => shq(`/etc/docker/certs.d/${n}:${REGISTRY_PORT}`)).join(' ');
  return rootScript(
    'new=$(mktemp)',
    'trap \'rm -f "$new"\' EXIT',
    'cat > "$new"',
    'changed=unchanged',
    `for d in ${dirs}; do if ! cmp -s "$new" "$d/ca.crt"; then mkdir -p "$d" && install -m 644 "$new" "$d/ca.crt" && changed=changed; fi; done`,
    'echo $changed',
  );
}

/**
 * `docker login` to the registry under each name this node can resolve (a name it cannot is
 * one no image here can be pulled by either), the password on stdin; the client keeps it in the
 * user's ~/.docker, 0600.
 */
export function registryLoginScript(user: string, names: readonly string[]): string {
  assertRegistryNames(names);
  return remoteScript(
    'read -r password',
    // An address needs no look-up (getent would look for its name, which it may not have).
    `for n in ${names.map(shq).join(' ')}; do case "$n" in *[!0-9.]*) getent hosts "$n" >/dev/null || continue ;; esac; printf '%s\\n' "$password" | dk login --username ${shq(user)} --password-stdin "$n:${REGISTRY_PORT}" >/dev/null; done`,
  );
}
