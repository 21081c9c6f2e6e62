import { parseGoYaml, stringifyGoYaml } from './go-yaml.js';

/**
 * The compose text to send with each service's image pinned to the digest its tag names now
 * (`name:tag@sha256:…`), so a tag pushed over later is not what the next restarted task runs.
 * Pinned to the manifest list, so each node still pulls the variant for its own architecture.
 * Images without a digest (their registry did not answer) and images already pinned stay as written.
 */
export function pinImages(text: string, digests: ReadonlyMap<string, string>): string {
  if (digests.size === 0) return text;
  const data = parseGoYaml(text).toJS() as { services?: Record<string, { image?: unknown }> };
  let pinned = false;
  for (const service of Object.values(data.services ?? {})) {
    const image = service.image;
    if (typeof image !== 'string' || image.includes('@') || !digests.has(image)) continue;
    service.image = `${image}@${digests.get(image)}`;
    pinned = true;
  }
  return pinned ? stringifyGoYaml(data) : text;
}
