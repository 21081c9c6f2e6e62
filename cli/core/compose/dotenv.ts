/**
 * A `.env` file as `docker compose` reads it: KEY=value lines, `export ` allowed, # comments,
 * 'single quotes' literal, "double quotes" with \n \t \\ \" escapes, unquoted values trimmed and
 * cut at " #". (`docker stack deploy` itself reads no .env; piswarm reads the one beside the
 * first file, and variables set in the environment win over it.)
 */
export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    let value = line.slice(at + 1).trim();
    if (value.startsWith("'") && value.lastIndexOf("'") > 0) value = value.slice(1, value.lastIndexOf("'"));
    else if (value.startsWith('"') && value.lastIndexOf('"') > 0) {
      value = value.slice(1, value.lastIndexOf('"')).replace(/\\([nt"\\])/g, (_m, c: string) => ({ n: '\n', t: '\t', '"': '"', '\\': '\\' })[c]!);
    } else value = value.replace(/\s+#.*$/, '');
    vars[key] = value;
  }
  return vars;
}
