import { isMap, isScalar, type Document, type LineCounter, type Node as YamlNode } from 'yaml';

/** The line of the deepest part of `path` present in the document (1-based). */
export function lineOf(doc: Document, counter: LineCounter, path: readonly string[]): number | undefined {
  let line: number | undefined;
  let node: unknown = doc.contents;
  for (const segment of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment);
    if (!pair) break;
    const at = (pair.key as YamlNode | undefined)?.range?.[0];
    if (at !== undefined) line = counter.linePos(at).line;
    node = pair.value;
  }
  return line ?? (doc.contents?.range ? counter.linePos(doc.contents.range[0]).line : undefined);
}
