import { endsWithStdin, remoteScript } from './remote-shell.js';
import { shq } from './shell-quote.js';

/**
 * Node-side scripts of `piswarm stack …` and `logs`, run on a manager, and the engine event
 * stream every watch (stack deploy, scale, drain, the dashboard) runs on each node. The compose
 * file arrives on stdin (`-c -`), so nothing of it lands on the node's disk.
 */

/**
 * `docker stack deploy` without waiting (piswarm follows convergence itself). The manager looks
 * up no digests (`--resolve-image never`): piswarm has pinned every image whose registry it could
 * read already, and an image out of reach (the offline lab's Docker Hub) costs no wait.
 */
export function stackDeployScript(name: string, prune = false): string {
  return remoteScript(
    // --detach exists since Docker 23; older CLIs always returned at once.
    'detach=; if dk stack deploy --help 2>&1 | grep -q -- --detach; then detach=--detach=true; fi',
    // The manager's registry logins go with the services, so every node can pull private images.
    `dk stack deploy $detach --with-registry-auth --resolve-image never --prune=${prune} -c - ${shq(name)}`,
  );
}


/**
 * The engine actions that change what piswarm shows: healthchecks alone make three exec events
 * per container per interval, which would wake every watcher all the time.
 */
const EVENT_ACTIONS = ['start', 'die', 'oom', 'destroy', 'health_status', 'create', 'update', 'remove'];

/**
 * Engine events on one node (only EVENT_ACTIONS), as JSON lines, for at most `seconds` (so a
 * stream whose SSH channel went away does not outlive its command for long).
 */

export function eventsScript(seconds: number, types: readonly string[] = ['container', 'service']): string {
  const filters = [...types.map((t) => `type=${t}`), ...EVENT_ACTIONS.map((a) => `event=${a}`)];
  // A duration given to --until counts back from now, like --since: the end is a timestamp.
  return endsWithStdin(`dk events --until "$(( $(date +%s) + ${Math.ceil(seconds)} ))" ${filters.map((f) => `--filter ${f}`).join(' ')} --format '{{json .}}'`);
}

export const STACK_LS_SCRIPT = remoteScript(`dk stack ls --format '{{json .}}'`);

export function stackRmScript(name: string): string {
  return remoteScript(`dk stack rm ${shq(name)}`);
}

/** The stack's tasks, newest first per slot, as JSON lines. */
export function stackPsScript(name: string): string {
  return remoteScript(`dk stack ps ${shq(name)} --no-trunc --format '{{json .}}'`);
}

/** The names of every service in the swarm, one per line. */
export const SERVICE_NAMES_SCRIPT = remoteScript(`dk service ls --format '{{.Name}}'`);

/**
 * `docker service logs`, which collects every task's output from every node and prefixes each
 * line with the task and its node; the containers' stderr is merged into the stream.
 */
export function serviceLogsScript(service: string, options: { follow: boolean; since?: string; tail?: number }): string {
  const flags = ['--timestamps', ...(options.follow ? ['--follow'] : []), ...(options.since ? ['--since', options.since] : []), ...(options.tail !== undefined ? ['--tail', String(options.tail)] : [])];
  return endsWithStdin(`dk service logs ${flags.map(shq).join(' ')} ${shq(service)} 2>&1`);
}

/**
 * Creates a secret or config from stdin unless one of that name exists (names carry a hash of
 * the content, so an existing one holds the same bytes). The content never appears in a command.
 */
export function createObjectScript(kind: 'secret' | 'config', name: string, stack: string): string {
  return remoteScript(`dk ${kind} inspect ${shq(name)} >/dev/null 2>&1 || dk ${kind} create --label com.docker.stack.namespace=${shq(stack)} ${shq(name)} - >/dev/null`);
}

/** Prints the names among these secrets or configs that do not exist in the swarm, one per line. */
export function missingObjectsScript(kind: 'secret' | 'config', names: readonly string[]): string {
  return remoteScript(`for n in ${names.map(shq).join(' ')}; do dk ${kind} inspect "$n" >/dev/null 2>&1 || echo "$n"; done`);
}
