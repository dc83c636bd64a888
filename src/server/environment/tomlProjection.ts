/**
 * Projects a TOML document to key paths, statement by statement (upstream
 * LocalTomlLayerStack::project, without a TOML dependency): a statement at or below a
 * selected path is kept; a non-table value met on the way down a path is kept whole (it
 * overrides lower layers); a table header on the way down is kept even if empty.
 *
 * Limitation: the `toml` returned is the original text of the kept statements, not
 * upstream's re-serialisation; it parses to the same selected values, except that an inline
 * table (`a = {b = 1, c = 2}`) met on the way down a longer path is returned whole instead
 * of narrowed.
 */
import { scanToml } from './tomlScanner';

type Match = 'inside' | 'ancestor' | 'none';

/**
 * Keeps only the statements selected by `paths`; undefined when nothing is selected
 * (upstream drops such a layer). See the header for the rules.
 */
export function projectToml(text: string, paths: string[][], file = '<toml>'): string | undefined {
  const kept: string[] = [];
  let tableKept = false;
  let wholeArray = false;
  for (const s of scanToml(text, file)) {
    if (s.kind === 'table') {
      const m = matchPath(s.path, paths);
      tableKept = m !== 'none';
      // An array of tables on the way down is a non-table value: kept whole.
      wholeArray = s.array && m === 'ancestor';
      if (tableKept) kept.push(s.text);
      continue;
    }
    if (!tableKept && s.table.length > 0) continue;
    if (wholeArray || matchPath([...s.table, ...s.key], paths) !== 'none') kept.push(s.text);
  }
  return kept.length === 0 ? undefined : kept.join('\n') + '\n';
}

/** `inside`: at or below a selected path; `ancestor`: on the way down to one. */
function matchPath(full: string[], paths: string[][]): Match {
  let best: Match = 'none';
  for (const sel of paths) {
    const n = Math.min(full.length, sel.length);
    let same = true;
    for (let i = 0; i < n && same; i++) same = full[i] === sel[i];
    if (!same) continue;
    if (full.length >= sel.length) return 'inside';
    best = 'ancestor';
  }
  return best;
}
