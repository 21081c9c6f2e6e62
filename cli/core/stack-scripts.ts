import { remoteScript } from './remote-shell.js';
import { shq } from './shell-quote.js';

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
export function stackDeployScript(name: string, prune = false): string {
  return remoteScript(
    // --detach exists since Docker 23; older CLIs always returned at once.
    'detach=; if dk stack deploy --help 2>&1 | grep -q -- --detach; then detach=--detach=true; fi',
    // The manager's registry logins go with the services, so every node can pull private images.
    `dk stack deploy $detach --with-registry-auth --resolve-image never --prune=${prune} -c - ${shq(name)}`,
  );
}
