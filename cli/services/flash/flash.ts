import { randomBytes } from 'node:crypto';
import { realpath, stat, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { deviceNumber, listDrives, type Drive } from '../../adapters/drives.js';
import { openApprovedDevice, openOutputFile, type OpenTarget } from '../../adapters/flash-target.js';
import { generateHostKey } from '../../adapters/host-keys.js';
import { assertReadableFile, download, fetchText, hashFile, openImage, readTextIfExists } from '../../adapters/image-source.js';
import type { CommandRunner } from '../../adapters/process.js';
import type { CardSettings } from '../../core/card-settings.js';
import { checksumCandidates, findSha256 } from '../../core/checksum.js';
import { judgeDrive } from '../../core/drive-safety.js';
import type { Inventory } from '../../core/inventory.js';
import { CancelledError, ExitCode, PiswarmError } from '../../errors.js';
import { flashCard, type FlashCardResult, type FlashProgress } from './flash-card.js';

export interface FlashRequest {
  image: string;
  sha256?: string;
  noChecksum: boolean;
  /** One target per hostname, in order. */
  targets: Array<{ kind: 'device' | 'file'; path: string }>;
  settings: Array<Omit<CardSettings, 'hostKeys' | 'instanceId'>>;
  verifyAll: boolean;
  force: boolean;
  dryRun: boolean;
  signal?: AbortSignal;
}

/** The questions flash may need answered; the command decides how (prompt, --yes, or refuse). */
export interface FlashPrompts {
  confirm(question: string): Promise<boolean>;
  /** Waits until the user has put the card for `hostname` in (several cards through one reader). */
  nextCard(hostname: string, device: string): Promise<void>;
}

export interface FlashEvents {
  download(done: number, total?: number): void;
  checksum(done: boolean): void;
  /** A card starts; its progress goes to what this returns (several cards may be at work at once). */
  card(hostname: string, target: string): FlashProgress;
}

export interface FlashOutcome {
  checksum: { sha256: string; source: string } | { skipped: true };
  cards: FlashCardResult[];
  dryRun: boolean;
}

/** Checks the image once, then flashes and personalises one card per hostname: in turn through one reader, in parallel across readers. */
export async function flash(runner: CommandRunner, inventory: Inventory, request: FlashRequest, prompts: FlashPrompts, events: FlashEvents): Promise<FlashOutcome> {
  assertTrustworthySource(request);
  const { imagePath, downloaded, checksumSources } = await resolveImage(request.image, events, request.signal);
  const checksum = await checkImage(imagePath, downloaded, request, checksumSources, prompts, events);

  const imageDevice = deviceNumber((await stat(imagePath)).dev);
  const imageSize = await exactImageSize(imagePath);
  const approved: Drive[] = [];
  for (const target of request.targets) {
    if (target.kind === 'device') approved.push(await approveDrive(runner, target.path, { imageDevice, imageSize }, request, prompts));
  }
  if (request.dryRun) return { checksum, cards: [], dryRun: true };

  // One lane per target: cards through one reader go one after another, readers run in parallel.
  const lanes = new Map<string, number[]>();
  request.targets.forEach((target, i) => lanes.set(target.path, [...(lanes.get(target.path) ?? []), i]));
  const results: FlashCardResult[] = [];
  const failures: Array<{ error: unknown; hostname: string; target: string }> = [];
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const [k, i] of lane.entries()) {
        const base = request.settings[i]!;
        const target = request.targets[i]!;
        let opened: OpenTarget | undefined;
        // Whatever stops this lane ends it alone: the other readers' cards are finished first.
        try {
          if (k > 0 && target.kind === 'device') await prompts.nextCard(base.hostname, target.path);
          const progress = events.card(base.hostname, target.path);
          const settings: CardSettings = { ...base, hostKeys: [generateHostKey(base.hostname)], instanceId: `piswarm-${base.hostname}-${randomBytes(4).toString('hex')}` };
          opened = await openTarget(runner, target, approved, { imageDevice, imageSize }, prompts, request);
          results[i] = await flashCard(runner, { imagePath, target: opened, settings, verifyAll: request.verifyAll, progress, signal: request.signal });
          inventory.recordCard(base.hostname, { hostKey: settings.hostKeys[0]!.publicKey, user: base.user, image: basename(request.image), flashedAt: new Date().toISOString() });
        } catch (error) {
          failures.push({ error, hostname: base.hostname, target: target.path });
          return;
        } finally {
          await opened?.handle.close().catch(() => undefined);
        }
      }
    }),
  );
  const cards = results.filter(Boolean);
  if (failures.length > 0) throw incomplete(failures[0]!.error, failures[0]!.hostname, failures[0]!.target, cards.map((c) => c.hostname));
  return { checksum, cards, dryRun: false };
}

function incomplete(error: unknown, hostname: string, target: string, done: readonly string[]): Error {
  const already = done.length > 0 ? ` ${done.join(', ')}: flashed and verified.` : '';
  if (error instanceof Error && error.name === 'AbortError') {
    return new CancelledError(`Flashing ${hostname} was interrupted: ${target} is incomplete and will not boot.${already}`, 'Flash it again.');
  }
  if (error instanceof PiswarmError) {
    return new PiswarmError(`${hostname}: ${error.message}${already}`, { hint: error.hint, exitCode: error.exitCode, cause: error });
  }
  return new PiswarmError(`Flashing ${hostname} onto ${target} failed: ${(error as Error).message}. The card is incomplete and will not boot.${already}`, { cause: error });
}

/** What the drive checks need to know about the image: where it lives, and its size when exact. */
interface ImageFacts {
  imageDevice: string;
  imageSize?: number;
}

async function exactImageSize(path: string): Promise<number | undefined> {
  const { stream, size, sizeIsExact } = await openImage(path);
  stream.destroy();
  return sizeIsExact ? size : undefined;
}

const isUrl = (image: string) => /^https?:\/\//i.test(image);

/**
 * An http:// image checked against a .sha256 from the same server proves nothing: whoever can
 * change the one on the way can change the other. Such an image needs the checksum given here.
 */
function assertTrustworthySource(request: FlashRequest): void {
  if (!/^http:\/\//i.test(request.image) || request.sha256 || request.noChecksum) return;
  throw new PiswarmError(`${request.image} would be downloaded over plain HTTP, and its published checksum with it: a checksum from the same connection proves nothing.`, {
    exitCode: ExitCode.usage,
    hint: 'Give the SHA-256 from the project\'s HTTPS page with --sha256 HEX, or use an https:// address (or --no-checksum to write it unchecked).',
  });
}

async function resolveImage(image: string, events: FlashEvents, signal?: AbortSignal) {
  if (!isUrl(image)) {
    await assertReadableFile(image);
    const local = await Promise.all(checksumCandidates(image).map(async (path) => ({ source: path, text: await readTextIfExists(path) })));
    return { imagePath: image, downloaded: false, checksumSources: local };
  }
  const imagePath = await download(image, (done, total) => events.download(done, total), signal);
  const remote = await Promise.all(checksumCandidates(image).map(async (url) => ({ source: url, text: await fetchText(url) })));
  return { imagePath, downloaded: true, checksumSources: remote };
}

async function checkImage(
  imagePath: string,
  downloaded: boolean,
  request: FlashRequest,
  sources: Array<{ source: string; text?: string }>,
  prompts: FlashPrompts,
  events: FlashEvents,
): Promise<FlashOutcome['checksum']> {
  const name = basename(new URL(request.image, 'file:///').pathname);
  const published = sources.map((s) => ({ source: s.source, sha256: s.text ? findSha256(s.text, name) : undefined })).find((s) => s.sha256);
  const expected = request.sha256 ? { sha256: request.sha256.toLowerCase(), source: '--sha256' } : published && { sha256: published.sha256!, source: published.source };
  if (!expected) {
    if (!request.noChecksum && !(await prompts.confirm(`No checksum found for ${name} (looked for ${sources.map((s) => basename(s.source)).join(', ')}). Write it anyway?`))) {
      throw new CancelledError(`No checksum found for ${name}; nothing was written.`, 'Give one with --sha256 HEX, or pass --no-checksum to write it unchecked.');
    }
    return { skipped: true };
  }
  events.checksum(false);
  const actual = await hashFile(imagePath);
  if (actual !== expected.sha256) {
    if (downloaded) await unlink(imagePath).catch(() => undefined);
    throw new PiswarmError(`${name} does not match its checksum (${expected.source}): expected ${expected.sha256}, got ${actual}. Nothing was written.`, {
      hint: downloaded ? 'The download was deleted; try again.' : 'Download the image again, or check you have the right checksum.',
    });
  }
  events.checksum(true);
  return { sha256: actual, source: expected.source };
}

async function findDrive(runner: CommandRunner, path: string): Promise<Drive> {
  const real = await realpath(path).catch(() => path);
  const drive = (await listDrives(runner)).find((d) => d.path === real);
  if (!drive) {
    throw new PiswarmError(`${path} is not a whole drive piswarm can see.`, { hint: 'Give the drive (e.g. /dev/sdb), not a partition (/dev/sdb1). `piswarm flash --list` shows them.' });
  }
  return drive;
}

/** Every safety rule before anything is opened for writing (and all that --dry-run does). */
async function approveDrive(runner: CommandRunner, path: string, image: ImageFacts, request: FlashRequest, prompts: FlashPrompts): Promise<Drive> {
  const drive = await findDrive(runner, path);
  const verdict = judgeDrive(drive, { imageDevices: [image.imageDevice], imageSize: image.imageSize });
  if (verdict.refusals.length > 0) {
    throw new PiswarmError(`Refusing to flash ${path}: ${verdict.refusals.join('; ')}.`, { hint: 'Choose another drive; `piswarm flash --list` shows candidates.' });
  }
  if (verdict.needsForce.length > 0 && !request.force) {
    throw new PiswarmError(`${verdict.needsForce.join('; ')}; SD card readers usually are.`, { hint: `If ${path} really is the card, add --force.` });
  }
  const description = `${path} (${drive.model || 'unknown model'}, ${(drive.size / 1e9).toFixed(1)} GB${drive.partitions.length ? `, partitions: ${drive.partitions.map((p) => `${basename(p.path)} ${p.fstype || '?'}`).join(', ')}` : ''})`;
  if (!request.dryRun && !(await prompts.confirm(`Erase ${description} and flash it?`))) {
    throw new CancelledError(`Nothing was written to ${path}.`, 'Add --yes to flash without asking.');
  }
  if (verdict.toUnmount.length > 0 && !request.dryRun) {
    if (!(await prompts.confirm(`${verdict.toUnmount.join(', ')} ${verdict.toUnmount.length > 1 ? 'are' : 'is'} mounted. Unmount and continue?`))) {
      throw new CancelledError(`${path} has mounted partitions (${verdict.toUnmount.join(', ')}); nothing was written.`, 'Unmount them, or confirm with --yes.');
    }
    for (const partition of verdict.toUnmount) await runner.run('umount', [partition]);
  }
  return drive;
}

/** Re-checks the drive just before opening it: a swapped card must not be written by mistake. */
async function openTarget(
  runner: CommandRunner,
  target: FlashRequest['targets'][number],
  approved: Drive[],
  image: ImageFacts,
  prompts: FlashPrompts,
  request: FlashRequest,
): Promise<OpenTarget> {
  if (target.kind === 'file') return openOutputFile(target.path);
  const real = await realpath(target.path).catch(() => target.path);
  const before = approved.find((d) => d.path === real);
  const now = await findDrive(runner, target.path);
  if (before && (now.size !== before.size || now.model !== before.model)) {
    // A different card in the same reader (several hostnames): approve it again.
    await approveDrive(runner, target.path, image, { ...request, dryRun: false }, prompts);
  }
  // The device number as approved just now: what is opened must be that device.
  return openApprovedDevice(real, (await stat(real)).rdev, target.path);
}
