import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/**
 * ESLint's import-x/no-cycle keeps runtime imports of src/ acyclic but skips type-only ones by
 * design; this keeps those acyclic too, so every module reads from its imports down.
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The src/ modules a file imports, type-only imports and `import('…')` types included. */
function importsOf(file: string, options: ts.CompilerOptions): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .filter(({ fileName }) => fileName.startsWith('.'))
    .map(
      ({ fileName }) =>
        ts.resolveModuleName(fileName, file, options, ts.sys).resolvedModule?.resolvedFileName,
    )
    .filter((resolved): resolved is string => resolved?.startsWith(SRC) === true);
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    trail.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...trail.slice(trail.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    trail.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

test('src/ has no import cycles, type-only imports included', () => {
  const options: ts.CompilerOptions = { moduleResolution: ts.ModuleResolutionKind.Node10 };
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((file) => [file, importsOf(file, options)]));
  expect(graph.get(path.join(SRC, 'sync', 'index.ts'))).toContain(
    path.join(SRC, 'core', 'locks', 'registry.ts'),
  );
  const named = cycles(graph).map((cycle) =>
    cycle.map((file) => path.relative(SRC, file)).join(' -> '),
  );
  expect(named).toEqual([]);
});
