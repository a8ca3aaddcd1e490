import * as path from 'node:path';

/** What Jest's watcher is set up from, per project (`ProjectConfig`'s fields of the same names). */
export interface WatchedProject {
  roots: string[];
  moduleFileExtensions: string[];
  watchPathIgnorePatterns: string[];
  modulePathIgnorePatterns: string[];
}

/**
 * Whether Jest in watch mode sees `file` change, and so runs again: jest-haste-map watches the
 * files under a project's roots with one of its module extensions, outside `node_modules`, that
 * none of its ignore patterns match (joined into one regular expression, tried on the whole path).
 */
export function watchedByJest(file: string, projects: Iterable<WatchedProject>): boolean {
  const extension = path.extname(file).slice(1);
  for (const project of projects) {
    if (!project.moduleFileExtensions.includes(extension)) continue;
    if (!project.roots.some((root) => isInside(file, root))) continue;
    if (file.split(path.sep).includes('node_modules')) continue;
    const patterns = [...project.modulePathIgnorePatterns, ...project.watchPathIgnorePatterns];
    if (patterns.length > 0 && matchesAny(patterns, file)) continue;
    return true;
  }
  return false;
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

function matchesAny(patterns: string[], file: string): boolean {
  try {
    return new RegExp(patterns.join('|')).test(file);
  } catch {
    // Jest would have failed on a pattern it cannot compile: take the file to be ignored.
    return true;
  }
}
