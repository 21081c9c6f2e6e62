/**
 * Docker's `--format '{{json .}}'` output, one JSON object per line, or the engine API's JSON
 * arrays (one per line); other lines are skipped.
 */
export function parseJsonLines<T = Record<string, any>>(text: string): T[] {
  return text.split('\n').flatMap((line) => {
    const trimmed = line.trim();
    if (trimmed.startsWith('{')) return [JSON.parse(trimmed) as T];
    if (trimmed.startsWith('[')) return JSON.parse(trimmed) as T[];
    return [];
  });
}
