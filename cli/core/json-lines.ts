/** Docker's `--format '{{json .}}'` output: one JSON object per line; other lines are skipped. */
export function parseJsonLines<T = Record<string, any>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}
