import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { FileProblem } from '../../errors.js';
import { CAST_AFTER_SUBSTITUTION } from './schema.js';
import { substitute, type Lookup } from './template.js';

/**
 * Substitutes variables in every string value of a parsed file, once, as Docker does before it
 * validates or merges anything; keys are left alone. A value Docker casts after substitution
 * (`replicas: ${N}`) becomes a number or boolean. Unlike Docker, a variable that is not set and
 * has no default is a problem here: Docker would quietly deploy an empty value.
 */
export function interpolateDocument(doc: Document, counter: LineCounter, lookup: Lookup): FileProblem[] {
  const problems: FileProblem[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (isAlias(node)) return; // its anchor is substituted where it is defined
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (key !== '<<') walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item, [...path, '[]']);
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const line = lineOfNode(node, counter);
      const field = path.filter((p) => p !== '[]').join('.');
      const result = substitute(node.value, lookup);
      if (!result.ok) return void problems.push({ line, field, message: result.error });
      for (const name of result.unset) problems.push({ line, field, message: `\${${name}} is not set, and has no default (write \${${name}:-default}, or set it)` });
      if (result.unset.length > 0 || result.value === node.value) return;
      const cast = castFor(path);
      if (!cast) return void (node.value = result.value);
      const value = castValue(result.value, cast);
      if (value === undefined) problems.push({ line, field, message: `"${result.value}" (after substitution) is not ${cast === 'bool' ? 'a boolean' : cast === 'int' ? 'a whole number' : 'a number'}` });
      else node.value = value;
    }
  };
  walk(doc.contents, []);
  return problems;
}

function lineOfNode(node: Node, counter: LineCounter): number | undefined {
  return node.range ? counter.linePos(node.range[0]).line : undefined;
}

function castFor(path: readonly string[]): 'int' | 'float' | 'bool' | undefined {
  return CAST_AFTER_SUBSTITUTION.find(([pattern]) => pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]))?.[1];
}

function castValue(text: string, cast: 'int' | 'float' | 'bool'): number | boolean | undefined {
  if (cast === 'int') return /^[-+]?\d+$/.test(text) ? Number(text) : undefined;
  if (cast === 'float') return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : undefined;
  const lower = text.toLowerCase();
  if (['y', 'yes', 'true', 'on'].includes(lower)) return true;
  if (['n', 'no', 'false', 'off'].includes(lower)) return false;
  return undefined;
}
