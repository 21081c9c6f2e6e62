import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_MIRROR } from '../core/image-build.js';
import { PiswarmError } from '../errors.js';
import type { CommandRunner } from './process.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Lists read within the day are used as they are, as apt's own daily update would. */
const LISTS_FRESH_MS = 24 * 3600_000;

export interface DebianSource {
  mirror: string;
  suite: string;
}

export function debianCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'piswarm', 'debian');
}

/**
 * Downloads `packages` and everything they depend on, as .debs for `architecture`, with apt's
 * own resolver but apt state of piswarm's own (sources, lists, an empty dpkg status, a cache):
 * this machine's apt, dpkg database and architectures are left as they are. Returns the files.
 */
export async function fetchDebianPackages(runner: CommandRunner, source: DebianSource, architecture: string, packages: readonly string[]): Promise<string[]> {
  if (!/^[a-z][a-z0-9-]*$/.test(source.suite)) throw new PiswarmError(`"${source.suite}" is not a Debian suite name.`, { hint: 'e.g. --suite bookworm' });
  const root = join(debianCacheDir(), `${source.suite}-${architecture}`);
  await Promise.all(['lists/partial', 'archives/partial', 'parts'].map((dir) => mkdir(join(root, dir), { recursive: true })));
  const keyring = existsSync(KEYRING) ? ` signed-by=${KEYRING}` : '';
  const lines = [`deb [arch=${architecture}${keyring}] ${source.mirror} ${source.suite} main`];
  if (source.mirror === DEBIAN_MIRROR) lines.push(`deb [arch=${architecture}${keyring}] http://deb.debian.org/debian-security ${source.suite}-security main`);
  await writeFile(join(root, 'sources.list'), `${lines.join('\n')}\n`);
  await writeFile(join(root, 'status'), '');
  const options = [
    `Dir::State=${root}`,
    'Dir::State::Lists=lists',
    `Dir::State::status=${join(root, 'status')}`,
    `Dir::Cache=${root}`,
    `Dir::Cache::Archives=${join(root, 'archives')}`,
    `Dir::Etc::SourceList=${join(root, 'sources.list')}`,
    `Dir::Etc::SourceParts=${join(root, 'parts')}`,
    `APT::Architecture=${architecture}`,
    `APT::Architectures=${architecture}`,
    'APT::Install-Recommends=false',
    // Not this machine's dpkg: its lock is not ours to take.
    'Debug::NoLocking=true',
  ].flatMap((option) => ['-o', option]);
  // One apt at a time in this cache (two builds at once would share its lists and archives).
  const apt = (args: string[]) => runner.run('flock', [join(root, 'lock'), 'apt-get', '-q', ...options, ...args], { allowFailure: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const failed = (what: string, result: { stderr: string; stdout: string }) =>
    new PiswarmError(`apt could not ${what} for ${architecture} from ${source.mirror} (${source.suite}): ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join(' / ')}`, {
      hint: 'Check this machine reaches the mirror (or give --mirror), and the package names exist for that architecture.',
    });
  // apt dates the lists as the mirror does, so the day is counted from piswarm's own stamp.
  const stamp = join(root, 'lists', 'piswarm-updated');
  const updated = await stat(stamp).then((s) => s.mtimeMs, () => 0);
  if (Date.now() - updated > LISTS_FRESH_MS || (await readFile(stamp, 'utf8').catch(() => '')) !== lines.join('\n')) {
    const update = await apt(['update']);
    if (update.code !== 0) throw failed('read the package lists', update);
    await writeFile(stamp, lines.join('\n'));
  }
  const plan = await apt(['install', '-s', '-y', ...packages]);
  if (plan.code !== 0) throw failed(`resolve ${packages.join(', ')}`, plan);
  const download = await apt(['install', '--download-only', '-y', ...packages]);
  if (download.code !== 0) throw failed(`download ${packages.join(', ')}`, download);
  return debFiles(plan.stdout).map((file) => join(root, 'archives', file));
}

/** The .deb files apt's simulated install (`Inst NAME (VERSION SUITE [ARCH])` lines) stands for, named as apt saves them. */
export function debFiles(simulation: string): string[] {
  return [...simulation.matchAll(/^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[(\S+)\]\)/gm)].map(([, name, version, arch]) => `${name}_${version!.replace(/:/g, '%3a')}_${arch}.deb`);
}
