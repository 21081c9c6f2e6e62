import type { ComposeStack } from '../../core/compose-file.js';
import { mapSettled } from '../../core/parallel.js';
import { architectureProblems, eligibleNodes, type ImagePlatform, type SwarmNodeView } from '../../core/placement.js';
import { PiswarmError } from '../../errors.js';

export interface PreflightResult {
  /** For global services: how many nodes they will run on. */
  globalDesired: Map<string, number>;
  /** Checks that could not be made (e.g. a registry out of reach), said but not fatal. */
  warnings: string[];
}

/**
 * Before anything is sent: every service has a node it may run on, and every image has a variant
 * for each of those nodes' architecture (read from its registry, not pulled). An image whose
 * registry cannot be reached is warned about, and the nodes' own pulls decide.
 */
export async function preflight(
  stack: ComposeStack,
  nodes: readonly SwarmNodeView[],
  options: { skipArchCheck: boolean; fetchPlatforms: (image: string) => Promise<ImagePlatform[]> },
): Promise<PreflightResult> {
  const result: PreflightResult = { globalDesired: new Map(), warnings: [] };
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
    const platforms = await mapSettled(images, 8, (image) => options.fetchPlatforms(image));
    for (const { service, eligible } of placements) {
      const fetched = platforms[images.indexOf(service.image)]!;
      if (!fetched.ok) {
        const note = `Can't check the architectures of ${service.image}: ${fetched.error.message}`;
        if (!result.warnings.includes(note)) result.warnings.push(note);
        continue;
      }
      problems.push(...architectureProblems(service.image, fetched.value, eligible));
    }
  }
  if (problems.length > 0) {
    throw new PiswarmError(problems.join('\n'), {
      hint: 'Use an image built for those platforms (piswarm images build), constrain the service to nodes that can run it, or deploy anyway with --skip-arch-check.',
    });
  }
  return result;
}
