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
