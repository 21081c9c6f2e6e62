import { parseDocument, stringify, type Document, type DocumentOptions, type ParseOptions, type ScalarTag, type SchemaOptions, type Tags, type ToStringOptions } from 'yaml';

/**
 * Plain scalars read as Docker's Go YAML (yaml.v3) reads them, which is neither YAML 1.1 nor
 * 1.2: only true/false are booleans (`yes`, `on` stay strings); integers take 0x, 0o, 0b, a
 * leading-zero octal (`0440` is 288) and underscores (`1_000`); floats as Go parses them. Written
 * back with the same rules, so a string that Go would read as a number or boolean gets quoted.
 */
const INT = /^[-+]?(?:0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$/;
const FLOAT = /^[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/;

function parseGoInt(text: string): number {
  const negative = text.startsWith('-');
  const digits = text.replace(/^[-+]/, '').replaceAll('_', '');
  const prefix = digits.slice(0, 2).toLowerCase();
  const value =
    prefix === '0x' ? parseInt(digits.slice(2), 16) : prefix === '0o' ? parseInt(digits.slice(2), 8) : prefix === '0b' ? parseInt(digits.slice(2), 2) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : parseInt(digits, 10);
  return negative ? -value : value;
}

const goNull: ScalarTag = { tag: 'tag:yaml.org,2002:null', default: true, test: /^(?:~|null|Null|NULL)?$/, resolve: () => null, identify: (v) => v === null || v === undefined, stringify: () => 'null' };
const goBool: ScalarTag = { tag: 'tag:yaml.org,2002:bool', default: true, test: /^(?:true|True|TRUE|false|False|FALSE)$/, resolve: (s) => s[0] === 't' || s[0] === 'T', identify: (v) => typeof v === 'boolean', stringify: ({ value }) => String(value) };
const goInt: ScalarTag = { tag: 'tag:yaml.org,2002:int', default: true, test: INT, resolve: parseGoInt, identify: (v) => Number.isInteger(v), stringify: ({ value }) => String(value) };
const goFloat: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  test: new RegExp(`${FLOAT.source}|^[-+]?\\.(?:inf|Inf|INF)$|^\\.(?:nan|NaN|NAN)$`),
  resolve: (s) => (/nan$/i.test(s) ? NaN : /inf$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : parseFloat(s.replaceAll('_', ''))),
  identify: (v) => typeof v === 'number',
  stringify: ({ value }) => (Number.isNaN(value) ? '.nan' : value === Infinity ? '.inf' : value === -Infinity ? '-.inf' : String(value)),
};

const SCALARS = new Set(['tag:yaml.org,2002:null', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);
const goTags = (tags: Tags): Tags => [...tags.filter((t) => typeof t === 'string' || !SCALARS.has(t.tag)), goNull, goBool, goInt, goFloat];

const GO_YAML: ParseOptions & DocumentOptions & SchemaOptions = { schema: 'core', customTags: goTags, merge: true, uniqueKeys: true };

export function parseGoYaml(text: string, options: ParseOptions = {}): Document.Parsed {
  return parseDocument(text, { ...GO_YAML, ...options });
}

export function stringifyGoYaml(value: unknown, options: ToStringOptions = {}): string {
  return stringify(value, { ...GO_YAML, lineWidth: 0, ...options });
}
