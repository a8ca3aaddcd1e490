import { watchedByJest, type WatchedProject } from '../../src/jest/watched-files';

const project: WatchedProject = {
  roots: ['/repo'],
  moduleFileExtensions: ['js', 'json'],
  watchPathIgnorePatterns: [],
  modulePathIgnorePatterns: [],
};

describe('watchedByJest: whether Jest in watch mode reruns when a file changes', () => {
  test('a module-extension file under a root is watched', () => {
    expect(watchedByJest('/repo/hangwatch-report.json', [project])).toBe(true);
    expect(watchedByJest('/repo/reports/out.json', [project])).toBe(true);
  });

  test('outside every root, another extension, or under node_modules: not watched', () => {
    expect(watchedByJest('/elsewhere/hangwatch-report.json', [project])).toBe(false);
    expect(watchedByJest('/repository/hangwatch-report.json', [project])).toBe(false);
    expect(watchedByJest('/repo/report.txt', [project])).toBe(false);
    expect(watchedByJest('/repo/node_modules/.cache/report.json', [project])).toBe(false);
  });

  test("an ignore pattern that matches (the presets' own, or modulePathIgnorePatterns) leaves it out", () => {
    const preset = { ...project, watchPathIgnorePatterns: ['/repo/hangwatch-report\\.json$'] };
    expect(watchedByJest('/repo/hangwatch-report.json', [preset])).toBe(false);
    expect(watchedByJest('/repo/other.json', [preset])).toBe(true);
    const modules = { ...project, modulePathIgnorePatterns: ['/repo/reports/'] };
    expect(watchedByJest('/repo/reports/out.json', [modules])).toBe(false);
  });

  test('watched when any one project watches it', () => {
    const ignoring = { ...project, watchPathIgnorePatterns: ['report'] };
    expect(watchedByJest('/repo/report.json', [ignoring])).toBe(false);
    expect(watchedByJest('/repo/report.json', [ignoring, project])).toBe(true);
    expect(watchedByJest('/repo/report.json', [])).toBe(false);
  });
});
