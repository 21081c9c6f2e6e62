export type Settled<T, R> = { item: T; ok: true; value: R } | { item: T; ok: false; error: Error };

/**
 * Runs `work` on every item with at most `limit` in flight. One failure never stops the others:
 * each item gets its own result, in input order.
 */
export async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<Array<Settled<T, R>>> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<Settled<T, R>>(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      try {
        results[index] = { item, ok: true, value: await work(item, index) };
      } catch (error) {
        results[index] = { item, ok: false, error: error instanceof Error ? error : new Error(String(error)) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return results;
}
