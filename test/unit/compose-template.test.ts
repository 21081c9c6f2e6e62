import { describe, expect, it } from 'vitest';
import { parseGoYaml, stringifyGoYaml } from '../../cli/core/compose/go-yaml.js';
import { escapeDollars, substitute } from '../../cli/core/compose/template.js';

const env: Record<string, string> = { SET: 'v', EMPTY: '', HOME: '/home/pirate' };
const lookup = (name: string) => env[name];
const value = (template: string) => {
  const result = substitute(template, lookup);
  return result.ok ? result.value : `ERROR ${result.error}`;
};

describe("Docker's variable substitution", () => {
  it.each([
    ['${SET} $SET', 'v v'],
    ['${UNSET}x', 'x'],
    ['${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET:-d}', 'd  d d'],
    ['$$HOME pa$$x $$$$', '$HOME pa$x $$'],
    ['${SET:?gone} ${EMPTY?ok}', 'v '],
    // An operator after an unbraced name runs to the end of the value, as in Docker.
    ['$HOME-x rest', '/home/pirate'],
    ['$UNSET-x rest', 'x rest'],
    ['${set}', ''],
    // A basic-auth hash written without $$: each $word is a variable, as Docker reads it.
    ['admin:$apr1$ruca84Hq$mbjd/SNK/', 'admin:/SNK/'],
  ])('%s', (template, expected) => {
    expect(value(template)).toBe(expected);
  });

  it.each([['${X:+alt}'], ['price 5$'], ['$(date)'], ['${}']])('refuses %s as Docker does', (template) => {
    expect(value(template)).toMatch(/^ERROR invalid interpolation format/);
  });

  it('fails a required variable with its message', () => {
    expect(value('${EMPTY:?set EMPTY}')).toBe('ERROR required variable EMPTY is missing a value: set EMPTY');
    expect(value('${UNSET?no}')).toBe('ERROR required variable UNSET is missing a value: no');
  });

  it('names the variables that were unset', () => {
    expect(substitute('$A ${B} ${C:-x} $$D', lookup)).toEqual({ ok: true, value: '  x $D', unset: ['A', 'B'] });
  });

  it('escapes a value so that substitution gives it back', () => {
    for (const text of ['admin:$apr1$ruca84Hq$mbjd', '($|/)', '$$', 'no dollars', '${X:+y}']) expect(value(escapeDollars(text))).toBe(text);
  });
});

describe("scalars as Docker's Go YAML reads them", () => {
  it('keeps yes/on as strings, reads 1.1 octals and underscores, merges anchors', () => {
    const doc = parseGoYaml('e: {A: yes, B: 0440, C: 1_000, D: on, E: 0x1F, F: 1e3, G: 010, H: 1.50, J: 0o17, K: .5, L: +12, M: ~, N: true, O: 08}\nx: &x {p: 1}\ny:\n  <<: *x\n  q: 2\n');
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual({ e: { A: 'yes', B: 288, C: 1000, D: 'on', E: 31, F: 1000, G: 8, H: 1.5, J: 15, K: 0.5, L: 12, M: null, N: true, O: 8 }, x: { p: 1 }, y: { p: 1, q: 2 } });
  });

  it('quotes the strings Go would read as something else', () => {
    const strings = ['1_000', 'yes', 'true', 'True', '0440', '1e3', 'null', '', '~', 'x', '0x1F', '.5', '08', 'a: b'];
    const text = stringifyGoYaml({ s: strings });
    expect(parseGoYaml(text).toJS()).toEqual({ s: strings });
    expect(text).toContain('- yes\n');
  });
});
