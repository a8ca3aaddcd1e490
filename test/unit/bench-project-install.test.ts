// bench/suite.js measures hangwatch installed in the project as npm installs it: its package files
// there, its dependencies the project's own copies where their versions fit, else nested.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { installIntoProject, satisfiesRange } = require('../../bench/project-install') as {
  installIntoProject: (project: string, fromRoot: string) => { root: string; nested: string[] };
  satisfiesRange: (version: string, range: string) => boolean;
};

describe('satisfiesRange (the caret ranges of hangwatch’s package.json)', () => {
  test.each([
    ['7.24.7', '^7.22.0', true],
    ['7.21.9', '^7.22.0', false],
    ['8.0.0', '^7.22.0', false],
    ['0.3.25', '^0.3.18', true],
    ['0.4.0', '^0.3.18', false],
    ['0.0.5', '^0.0.5', true],
    ['0.0.6', '^0.0.5', false],
    ['29.7.0', '^29.7.0 || ^30.0.0', true],
    ['30.5.1', '^29.7.0 || ^30.0.0', true],
    ['28.1.3', '^29.7.0 || ^30.0.0', false],
    ['30.0.0-beta.3', '^30.0.0', false],
    ['2.0.6', '>=2.0.3', false],
  ])('%s in %s: %s', (version, range, expected) => {
    expect(satisfiesRange(version, range)).toBe(expected);
  });
});

describe('installIntoProject', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-install-test-'));
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const writePackage = (dir: string, manifest: object, files: Record<string, string> = {}) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
  };

  test('copies the package files; a dependency the project has in range is the project’s, another is nested', () => {
    const source = path.join(scratch, 'hangwatch');
    writePackage(
      source,
      { name: 'hangwatch', files: ['dist'], dependencies: { fits: '^1.2.0', old: '^0.3.1' } },
      {
        'dist/index.js': "module.exports = [require('fits'), require('old')];",
        'README.md': 'not a package file here',
      },
    );
    /** A dependency copy at `root`'s node_modules whose module exports who owns it. */
    const dependency = (root: string, name: string, version: string, owner: string) =>
      writePackage(
        path.join(root, 'node_modules', name),
        { version },
        {
          'index.js': `module.exports = '${owner} ${name}';`,
        },
      );
    dependency(source, 'fits', '1.2.0', 'repository');
    dependency(source, 'old', '0.3.9', 'repository');
    const project = path.join(scratch, 'project');
    dependency(project, 'fits', '1.5.0', 'project');
    dependency(project, 'old', '0.4.0', 'project');

    const installed = installIntoProject(project, source);

    expect(installed.root).toBe(path.join(project, 'node_modules', '.hangwatch-bench'));
    expect(installed.nested).toEqual(['old']);
    expect(fs.existsSync(path.join(installed.root, 'package.json'))).toBe(true);
    expect(fs.existsSync(path.join(installed.root, 'README.md'))).toBe(false);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(require(path.join(installed.root, 'dist', 'index.js'))).toEqual([
      'project fits',
      'repository old',
    ]);
  });
});
