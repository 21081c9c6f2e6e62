/** An image reference split the way Docker resolves it. */
export interface ImageRef {
  /** Host[:port] of the registry; "docker.io" for Docker Hub. */
  registry: string;
  repository: string;
  /** A tag or a digest (sha256:…). */
  reference: string;
}

/**
 * "nginx" → docker.io/library/nginx:latest; "10.0.0.1:5000/app:1" → that registry. The first
 * component is a registry when it has a dot or a port, or is "localhost", as in Docker.
 */
export function parseImageRef(image: string): ImageRef {
  let rest = image.trim();
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  const [first, ...others] = rest.split('/');
  const isRegistry = others.length > 0 && (first!.includes('.') || first!.includes(':') || first === 'localhost');
  const registry = isRegistry ? first! : 'docker.io';
  const path = isRegistry ? others.join('/') : rest;
  const repository = registry === 'docker.io' && !path.includes('/') ? `library/${path}` : path;
  return { registry, repository, reference };
}

/** A digest as people read it: its algorithm and first 12 hex digits. */
export function shortDigest(digest: string): string {
  return `${digest.slice(0, 19)}…`;
}
