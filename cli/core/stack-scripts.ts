import { remoteScript } from './remote-shell.js';
import { shq } from './shell-quote.js';
import { apiVersionAtLeast } from './swarm-api.js';

/**
 * The one Docker command piswarm still runs as a program on a manager: `docker stack deploy`, the
 * official compose-to-swarm translation (see docs/stacks.md). Everything else goes through the
 * Engine API (core/swarm-api). The compose file arrives on stdin (`-c -`), so nothing of it lands
 * on the node's disk.
 */

/**
 * `docker stack deploy` without waiting (piswarm follows convergence itself). The manager looks
 * up no digests (`--resolve-image never`): piswarm has pinned every image whose registry it could
 * read already, and an image out of reach (the offline lab's Docker Hub) costs no wait.
 */
export function stackDeployScript(name: string, options: { prune: boolean; detach: boolean }): string {
  // --detach exists since Docker 23 (which waits without it); older CLIs always return at once.
  // The manager's registry logins go with the services, so every node can pull private images.
  return remoteScript(`dk stack deploy${options.detach ? ' --detach=true' : ''} --with-registry-auth --resolve-image never --prune=${options.prune} -c - ${shq(name)}`);
}

/** Whether the manager's docker CLI has `stack deploy --detach`: it came with Docker 23, API 1.42 (a Pi's CLI is its engine's). */
export function hasDeployDetach(apiVersion: string | undefined): boolean {
  return apiVersion !== undefined && apiVersionAtLeast(apiVersion, '1.42');
}
