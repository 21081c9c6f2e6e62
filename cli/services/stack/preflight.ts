import { shortDigest } from '../../core/image-ref.js';
import type { ComposeStack } from '../../core/compose-file.js';
import { mapSettled } from '../../core/parallel.js';
import { architectureProblems, eligibleNodes, type ImageFacts, type SwarmNodeView } from '../../core/placement.js';
import { PiswarmError } from '../../errors.js';

export interface PreflightResult {
  /** For global services: how many nodes they will run on. */
  globalDesired: Map<string, number>;
  /** Checks that could not be made (e.g. a registry out of reach), said but not fatal. */
  warnings: string[];
  /** Each image's verdict: the architectures of the nodes it may run on, all served; or why it was not checked. */
  images: Array<{ image: string; verdict: string }>;
  /** The digest each image's tag names now, for the images whose registry answered. */
  digests: Map<string, string>;
}

/**
 * Before anything is sent: every service has a node it may run on, and every image has a variant
 * for each of those nodes' architecture (read from its registry, not pulled). An image whose
 * registry cannot be reached is warned about, and the nodes' own pulls decide.
 */
export async function preflight(
  stack: ComposeStack,
  nodes: readonly SwarmNodeView[],
  options: { skipArchCheck: boolean; inspectImage: (image: string) => Promise<ImageFacts> },
): Promise<PreflightResult> {
  const result: PreflightResult = { globalDesired: new Map(), warnings: [], images: [], digests: new Map() };
  const problems: string[] = [];
  const placements = stack.services.map((service) => ({ service, eligible: eligibleNodes(nodes, service.constraints) }));
  for (const { service, eligible } of placements) {
    if (eligible.length === 0) {
      problems.push(`No ready node may run ${service.name}${service.constraints.length ? ` (constraints: ${service.constraints.join(', ')})` : ''}.`);
    }
    if (service.mode === 'global' || service.mode === 'global-job') result.globalDesired.set(service.name, eligible.length);
  }
  if (!options.skipArchCheck) {
    const images = [...new Set(stack.services.map((s) => s.image))];
    const platforms = await mapSettled(images, 8, async (image) => {
      const facts = await options.inspectImage(image);
      result.digests.set(image, facts.digest);
      return facts.platforms;
    });
    for (const { service, eligible } of placements) {
      const fetched = platforms[images.indexOf(service.image)]!;
      if (!fetched.ok) {
        const note = `Can't check the architectures of ${service.image}: ${fetched.error.message}`;
        if (!result.warnings.includes(note)) result.warnings.push(note);
        continue;
      }
      problems.push(...architectureProblems(service.image, fetched.value, eligible));
    }
    for (const [i, image] of images.entries()) {
      const fetched = platforms[i]!;
      const arches = [...new Set(placements.filter((p) => p.service.image === image).flatMap((p) => p.eligible.map((n) => n.arch)))].sort();
      const published = fetched.ok ? fetched.value.map((p) => p.architecture + (p.variant ? `/${p.variant}` : '')).join(', ') : '';
      result.images.push({ image, verdict: fetched.ok ? `runs on ${arches.join(', ')} (${published} published), pinned to ${shortDigest(result.digests.get(image)!)}` : `not checked: ${fetched.error.message}` });
    }
  } else result.images.push(...[...new Set(stack.services.map((s) => s.image))].map((image) => ({ image, verdict: 'not checked (--skip-arch-check)' })));
  if (problems.length > 0) {
    throw new PiswarmError(problems.join('\n'), {
      hint: 'Use an image built for those platforms (piswarm images build), constrain the service to nodes that can run it, or deploy anyway with --skip-arch-check.',
    });
  }
  return result;
}
