/**
 * Docker's variable substitution for compose files (docker/cli cli/compose/template), rule for
 * rule, so a file means here what it means to `docker stack deploy`:
 * - `$$` is a literal `$`; `$NAME` and `${NAME}` substitute (names are [_a-zA-Z][_a-zA-Z0-9]*);
 * - `${NAME:-default}` when unset or empty, `${NAME-default}` when unset;
 * - `${NAME:?message}` fails when unset or empty, `${NAME?message}` when unset;
 * - anything else after a `$` (`${X:+alt}`, `$(`, a lone `$`) makes the whole value invalid.
 * As in Docker, an operator may follow an unbraced name too (`$A-b` is `${A-b}`, up to the end).
 */
export type Lookup = (name: string) => string | undefined;

export type Substitution =
  | { ok: true; value: string; unset: string[] }
  | { ok: false; error: string };

const NAME = '[_a-z][_a-z0-9]*(?::?[-?][^}]*)?';
const PATTERN = new RegExp(`\\$(?:(\\$)|(${NAME})|\\{(${NAME})\\}|())`, 'gi');

export function substitute(template: string, lookup: Lookup): Substitution {
  let error: string | undefined;
  const unset: string[] = [];
  const value = template.replace(PATTERN, (_whole, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
    if (error !== undefined) return '';
    if (escaped) return '$';
    const expression = named || braced;
    if (!expression) {
      error = 'invalid';
      return '';
    }
    const result = evaluate(expression, lookup);
    if ('error' in result) {
      error = result.error;
      return '';
    }
    if (result.unset) unset.push(result.unset);
    return result.value;
  });
  if (error === 'invalid') return { ok: false, error: `invalid interpolation format: "${template}"; escape a literal $ as $$` };
  if (error !== undefined) return { ok: false, error };
  return { ok: true, value, unset };
}

/** One expression, with Docker's order of operators: `:-`, `-`, `:?`, `?`, then a plain name. */
function evaluate(expression: string, lookup: Lookup): { value: string; unset?: string } | { error: string } {
  const [soft, softDefault] = cut(expression, ':-');
  if (softDefault !== undefined) {
    const value = lookup(soft);
    return { value: value === undefined || value === '' ? softDefault : value };
  }
  const [hard, hardDefault] = cut(expression, '-');
  if (hardDefault !== undefined) return { value: lookup(hard) ?? hardDefault };
  for (const [separator, emptyFails] of [[':?', true], ['?', false]] as const) {
    const [name, message] = cut(expression, separator);
    if (message === undefined) continue;
    const value = lookup(name);
    if (value === undefined || (emptyFails && value === '')) return { error: `required variable ${name} is missing a value: ${message}` };
    return { value };
  }
  const value = lookup(expression);
  return value === undefined ? { value: '', unset: expression } : { value };
}

function cut(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** A value written so that Docker's substitution gives it back unchanged. */
export function escapeDollars(value: string): string {
  return value.replaceAll('$', '$$$$');
}
