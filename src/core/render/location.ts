import type { CreationSite } from '../model';
import { displayPath } from '../stack';

/** A place in a file: a frame, a site's top frame, an await's position. */
export interface Place {
  file: string;
  line: number;
  column?: number;
}

/**
 * The one way every view shows a file location: `path:line:column`, the path relative to
 * `rootDir` when inside it. `column: false` for the short `path:line` of narrow columns.
 */
export function formatLocation(
  place: Place,
  rootDir: string,
  options: { column?: boolean } = {},
): string {
  const file = displayPath(place.file, rootDir);
  if (options.column === false || place.column === undefined) return `${file}:${place.line}`;
  return `${file}:${place.line}:${place.column}`;
}

/** A file alone (a test file, the report file), as `formatLocation` shows its path. */
export function formatPath(file: string, rootDir: string): string {
  return displayPath(file, rootDir);
}

/** A creation site on one line: its location, then its source line; `undefined` when unknown. */
export function formatSite(site: CreationSite | undefined, rootDir: string): string | undefined {
  const top = site?.top;
  if (!top) return undefined;
  const where = formatLocation(top, rootDir);
  return site.sourceLine ? `${where}   ${site.sourceLine}` : where;
}
