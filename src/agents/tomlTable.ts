/**
 * The one TOML edit the set-ups need: put a table (`[mcp_servers.exec]`) into a config file,
 * replacing that table if it is there and appending it otherwise. Everything else in the file,
 * comments and sub-tables such as `[mcp_servers.exec.env]` included, is kept byte for byte.
 * A line-based scan is enough for that: a table runs from its header to the next header.
 * Pure, no I/O.
 */

/** A TOML basic string: JSON's escapes are a subset TOML accepts. */
export function tomlString(s: string): string {
  return JSON.stringify(s);
}

export function tomlStringArray(a: string[]): string {
  return `[${a.map(tomlString).join(', ')}]`;
}

/** `["mcp_servers","exec"]` matches `[mcp_servers.exec]`, `[ mcp_servers . "exec" ]`, … */
function headerKeys(line: string): string[] | undefined {
  const m = /^\s*\[(?!\[)(.*)\]\s*(#.*)?$/.exec(line);
  if (!m) return undefined;
  const keys: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(\.|$)/y;
  let pos = 0;
  const body = m[1];
  while (pos < body.length) {
    re.lastIndex = pos;
    const k = re.exec(body);
    if (!k) return undefined;
    keys.push(k[1] !== undefined ? (JSON.parse(`"${k[1]}"`) as string) : (k[2] ?? k[3]));
    pos = re.lastIndex;
    if (k[4] === '') break;
  }
  return keys;
}

const isHeader = (line: string) => /^\s*\[/.test(line) && headerKeys(line) !== undefined;

/**
 * `table` is the full text of the table, its header line first. Returns the new file text.
 * Refuses a file that defines the same server inline (`[mcp_servers]` + `exec = {…}`): a
 * second definition would make the file invalid.
 */
export function upsertTomlTable(text: string, keys: string[], table: string): string {
  const lines = text.split(/\r?\n/);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const same = (k: string[] | undefined) => !!k && k.length === keys.length && k.every((x, i) => x === keys[i]);
  const parent = keys.slice(0, -1);
  let inParent = false;
  for (const line of lines) {
    if (isHeader(line)) inParent = (headerKeys(line) ?? []).join('\u0000') === parent.join('\u0000');
    else if (inParent && new RegExp(`^\\s*("?)${escapeRe(keys[keys.length - 1])}\\1\\s*=`).test(line)) {
      throw new Error(`the file already defines ${keys.join('.')} inline under [${parent.join('.')}]: edit it by hand`);
    }
  }
  const start = lines.findIndex((l) => same(headerKeys(l)));
  const body = table.replace(/\s+$/, '').split('\n');
  if (start < 0) {
    const head = text.replace(/\s+$/, '');
    return `${head}${head ? `${eol}${eol}` : ''}${body.join(eol)}${eol}`;
  }
  let end = start + 1;
  while (end < lines.length && !isHeader(lines[end])) end++;
  // Keep the blank lines and comments that introduce the next table with it.
  while (end > start + 1 && /^\s*(#.*)?$/.test(lines[end - 1]) && end < lines.length) end--;
  const out = [...lines.slice(0, start), ...body, ...(end < lines.length ? [''] : []), ...lines.slice(end)];
  let joined = out.join(eol);
  if (!joined.endsWith(eol)) joined += eol;
  return joined.replace(new RegExp(`(${eol}){3,}`, 'g'), `${eol}${eol}`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
