import { stringify } from 'yaml';
import { z } from 'zod';
import { FileProblemsError, UsageError, type FileProblem } from '../errors.js';
import { HOSTNAME_PATTERN } from './inventory-schema.js';
import { managerCountProblem } from './quorum.js';
import { parseValidatedYaml } from './yaml-location.js';

/** What `piswarm init` builds: saved as a plan file (YAML) and replayed with `init --plan FILE --yes`. */
export interface ClusterPlan {
  name: string;
  hostnames: string[];
  managers: number;
  /** A local image file or an http(s) URL; absent only for a lab, whose cards are made here. */
  image?: string;
  sha256?: string;
  user: string;
  sshKey?: string;
  /** The passphrase is never in the plan: PISWARM_WIFI_PASSWORD or a prompt. */
  wifi?: { ssid: string; country: string };
  /** Static addresses, one per hostname in order; absent: DHCP. */
  addresses?: string[];
  gateway?: string;
  dns?: string[];
  deploy: Deployable[];
  /** The IoT stack's broker URL (it holds a password), read from this file into a Docker secret. */
  iot?: { brokerUrlFile: string };
  lab?: { name: string; subnet: string };
}

export const DEPLOYABLES = ['hello-world', 'portainer', 'iot'] as const;
export type Deployable = (typeof DEPLOYABLES)[number];

/** A plan file with problems, each at its line. */
export class PlanError extends FileProblemsError {}

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const CIDR = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/([1-9]|[12]\d|3[0-2])$/;
const PATTERN_HINT = 'a hostname, or a pattern such as worker-{01..05}';

const planSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'must be letters, digits and "-", e.g. home'),
    hostnames: z.union([z.string(), z.array(z.string())]).transform((value, ctx) => {
      try {
        return expandHostnames(Array.isArray(value) ? value : [value]);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    managers: z.number().int().min(1, 'must be at least 1'),
    image: z.string().min(1).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'must be a SHA-256: 64 hex digits').optional(),
    user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name: lower-case letters, digits, "_" and "-"').default('pirate'),
    sshKey: z.string().min(1).optional(),
    wifi: z.strictObject({ ssid: z.string().min(1).max(32), country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as GB') }).optional(),
    addresses: z.array(z.string().regex(CIDR, 'must be an address with its prefix, e.g. 192.168.1.20/24')).optional(),
    gateway: z.string().regex(IPV4, 'must be an IPv4 address such as 192.168.1.1').optional(),
    dns: z.array(z.string().regex(IPV4, 'must be an IPv4 address')).optional(),
    deploy: z.array(z.enum(DEPLOYABLES, { message: `must be one of ${DEPLOYABLES.join(', ')}` })).default([]),
    iot: z.strictObject({ brokerUrlFile: z.string().min(1) }).optional(),
    lab: z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9]{0,7}$/, 'must be up to 8 letters and digits'), subnet: z.string().regex(CIDR, 'must be a subnet such as 10.77.0.0/24') }).optional(),
  })
  .superRefine((plan, ctx) => {
    if (!Array.isArray(plan.hostnames)) return;
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (plan.managers > plan.hostnames.length) problem('managers', `${plan.managers} managers, but only ${plan.hostnames.length} Pi(s)`);
    else if (managerCountProblem(plan.managers)) problem('managers', `${managerCountProblem(plan.managers)} Use 1, 3 or 5`);
    if (plan.addresses && plan.addresses.length !== plan.hostnames.length) problem('addresses', `${plan.addresses.length} address(es) for ${plan.hostnames.length} Pi(s): give one per hostname, or none for DHCP`);
    if (plan.addresses && !plan.gateway) problem('addresses', 'static addresses need a gateway: add gateway: 192.168.1.1 (your router)');
    if (!plan.image && !plan.lab) problem('image', 'is required: a HypriotOS .img.zip (or other cloud-init Pi image), a file or an https:// URL');
    if (plan.deploy.includes('iot') && !plan.iot) problem('deploy', 'iot needs its broker: add iot: {brokerUrlFile: FILE}, a file holding amqp://USER:PASSWORD@HOST:5672');
  });

export function parsePlan(file: string, text: string): ClusterPlan {
  const { data } = parseValidatedYaml(file, text, planSchema, (f, problems: FileProblem[]) => new PlanError(f, problems, `Fix ${f}, or run \`piswarm init\` without --plan to answer the questions again.`));
  return withoutUndefined(data) as ClusterPlan;
}

/** Checks a plan made from flags and answers the way a plan file is checked, naming the flag's field. */
export function validatePlan(plan: ClusterPlan): ClusterPlan {
  const parsed = planSchema.safeParse(plan);
  if (parsed.success) return withoutUndefined(parsed.data) as ClusterPlan;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`${issue.path.join('.') || 'plan'}: ${issue.message}.`, 'See `piswarm init --help`.');
}

/** The plan file's text: what was answered, with a line saying how to replay it. */
export function formatPlan(plan: ClusterPlan): string {
  return `# piswarm cluster plan. Replay it with: piswarm init --plan FILE --yes\n${stringify(withoutUndefined(plan))}`;
}

/**
 * Hostnames from names and patterns: `worker-{01..03}` is worker-01, worker-02, worker-03 (the
 * first number's width pads the rest), and a comma separates several.
 */
export function expandHostnames(entries: readonly string[]): string[] {
  const names = entries.flatMap((entry) => entry.split(',').map((s) => s.trim()).filter(Boolean)).flatMap(expandOne);
  if (names.length === 0) throw new Error(`no hostname given: ${PATTERN_HINT}`);
  const seen = new Set<string>();
  for (const name of names) {
    if (!HOSTNAME_PATTERN.test(name)) throw new Error(`"${name}" is not a valid hostname (letters, digits and "-", at most 63); give ${PATTERN_HINT}`);
    if (seen.has(name.toLowerCase())) throw new Error(`"${name}" is named twice`);
    seen.add(name.toLowerCase());
  }
  return names.map((n) => n.toLowerCase());
}

function expandOne(entry: string): string[] {
  const range = /^(.*)\{(\d+)\.\.(\d+)\}(.*)$/.exec(entry);
  if (!range) {
    if (/[{}]/.test(entry)) throw new Error(`"${entry}" is not ${PATTERN_HINT}`);
    return [entry];
  }
  const [, prefix, from, to, suffix] = range as unknown as [string, string, string, string, string];
  const [first, last] = [Number(from), Number(to)];
  if (last < first || last - first >= 100) throw new Error(`"${entry}": the range must go up, and name at most 100 Pis`);
  return Array.from({ length: last - first + 1 }, (_, i) => `${prefix}${String(first + i).padStart(from.length, '0')}${suffix}`);
}

/** The managers are the plan's first hostnames, in order (bootstrap's rule too). */
export function managersOf(plan: ClusterPlan): string[] {
  return plan.hostnames.slice(0, plan.managers);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
