import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { FileProblem } from '../errors.js';

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

/**
 * Parses a YAML file the user wrote and validates it with `schema`; every problem (syntax or
 * schema) names its line and field, and all of them come in one error made by `fail`.
 */
export function parseValidatedYaml<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  fail: (file: string, problems: FileProblem[]) => Error,
  describe: (issue: z.core.$ZodIssue) => string = (issue) => issue.message,
): { doc: Document; data: z.output<S> } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw fail(
      file,
      doc.errors.map((e) => ({ line: e.linePos?.[0].line, field: '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') })),
    );
  }
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw fail(
      file,
      parsed.error.issues.map((issue) => {
        // An unknown (often misspelt) key is reported at the key itself.
        const path = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [])];
        return { line: lineOf(doc, lineCounter, path), field: path.join('.'), message: describe(issue) };
      }),
    );
  }
  return { doc, data: parsed.data };
}
