import type { Drive } from '../../adapters/drives.js';

export interface CardSlotPorts {
  drives(): Promise<Drive[]>;
  sleep(ms: number): Promise<void>;
}

/** A removable drive with a medium in it: an SD card in a reader (an empty reader reports size 0). */
const cardsIn = (drives: readonly Drive[]) => new Set(drives.filter((d) => d.removable && d.size > 0 && !d.readOnly).map((d) => d.path));

/** The cards in readers now: those already in when piswarm starts watching are not taken for new ones. */
export async function cardsPresent(ports: CardSlotPorts): Promise<Set<string>> {
  return cardsIn(await ports.drives());
}

/**
 * Waits until a card is inserted (a removable drive gets a medium that `before` did not have),
 * then a little longer for more readers filled at the same time; returns at most `max` of them.
 */
export async function waitForCards(ports: CardSlotPorts, before: ReadonlySet<string>, max: number, options: { pollMs: number; settleMs: number; signal?: AbortSignal }): Promise<string[]> {
  let fresh: string[] = [];
  let firstSeen: number | undefined;
  let waited = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    fresh = [...cardsIn(await ports.drives())].filter((p) => !before.has(p)).sort();
    if (fresh.length > 0) firstSeen ??= waited;
    if (fresh.length >= max || (firstSeen !== undefined && waited - firstSeen >= options.settleMs)) return fresh.slice(0, max);
    await ports.sleep(options.pollMs);
    waited += options.pollMs;
  }
}

/** Waits until none of `paths` holds a card any more (taken out, or the reader unplugged). */
export async function waitForRemoval(ports: CardSlotPorts, paths: readonly string[], options: { pollMs: number; signal?: AbortSignal }): Promise<void> {
  for (;;) {
    options.signal?.throwIfAborted();
    const present = cardsIn(await ports.drives());
    if (!paths.some((p) => present.has(p))) return;
    await ports.sleep(options.pollMs);
  }
}
