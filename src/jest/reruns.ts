import { readFrozenMarkers } from '../core/loop-watchdog/frozen-markers';
import type { Finding } from '../core/model';
import type { PublishedFinding } from './findings-channel';

/**
 * The findings of the last attempt at each test file Jest ran again. When the watchdog ends a
 * worker over a frozen loop, Jest runs the file again in a new one: the tests that ran before
 * the freeze run twice, and what they found is published twice, once by each process. For the
 * files a frozen-loop marker names, a unit's finding of one kind is kept only from the last
 * process that published one for it; what only the first attempt found (a hang that did not
 * recur) stays, and so does every finding of a process that reported a unit more than once (a
 * test Jest retried itself, `jest.retryTimes`).
 */
export function lastAttempts(
  published: readonly PublishedFinding[],
  markerDir: string | undefined,
): PublishedFinding[] {
  const rerunFiles = new Set(
    markerDir === undefined ? [] : readFrozenMarkers(markerDir).map((marker) => marker.testPath),
  );
  if (rerunFiles.size === 0) return [...published];
  const lastSource = new Map<string, { source: string; at: string }>();
  for (const entry of published) {
    const key = rerunUnitKey(entry.finding, rerunFiles);
    if (key === undefined) continue;
    const last = lastSource.get(key);
    if (!last || entry.publishedAt >= last.at) {
      lastSource.set(key, { source: entry.source, at: entry.publishedAt });
    }
  }
  return published.filter((entry) => {
    const key = rerunUnitKey(entry.finding, rerunFiles);
    return key === undefined || lastSource.get(key)?.source === entry.source;
  });
}

/** What a finding is about (its kind, file, unit), when its file was run again; else none. */
function rerunUnitKey(finding: Finding, rerunFiles: ReadonlySet<string>): string | undefined {
  const about = finding as Partial<
    Record<'testPath' | 'testName' | 'phase' | 'scope' | 'forTest', string>
  >;
  if (about.testPath === undefined || !rerunFiles.has(about.testPath)) return undefined;
  return [
    finding.kind,
    about.testPath,
    about.testName ?? '',
    about.phase ?? about.scope ?? '',
    about.forTest ?? '',
  ].join('\0');
}
