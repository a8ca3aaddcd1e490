import type { HandledError } from './model';
import type { HangwatchHandledError } from './await-stacks/recorder';

const MAX_LISTED = 5;

function className(emitter: object): string {
  return (emitter as { constructor?: { name?: string } }).constructor?.name || 'EventEmitter';
}

/**
 * The handled 'error' events of the hung unit's own work since it started (`accept` says whose
 * owner is its), one entry per message: a socket's refused connection and the client that
 * re-emits it are one failure, seen by both. Newest first.
 */
export function describeHandledErrors(
  records: readonly (HangwatchHandledError | undefined)[],
  accept: (owner: unknown) => boolean,
  since: number,
  now: number,
): HandledError[] {
  const byMessage = new Map<string, HandledError & { lastAt: number; mostOnOne: number }>();
  for (const record of records) {
    if (!record || record.at < since || !accept(record.owner)) continue;
    const emitter = className(record.emitter);
    const known = byMessage.get(record.message);
    if (!known) {
      byMessage.set(record.message, {
        message: record.message,
        ...(record.code ? { code: record.code } : {}),
        emitters: [emitter],
        count: record.count,
        lastAgoMs: 0,
        lastAt: record.at,
        mostOnOne: record.emits,
      });
      continue;
    }
    if (!known.emitters.includes(emitter)) known.emitters.push(emitter);
    // Each failure counts on the emitter it was first seen on (see HangwatchHandledError).
    known.count += record.count;
    known.mostOnOne = Math.max(known.mostOnOne, record.emits);
    known.lastAt = Math.max(known.lastAt, record.at);
  }
  return [...byMessage.values()]
    .sort((a, b) => b.lastAt - a.lastAt)
    .slice(0, MAX_LISTED)
    .map(({ lastAt, mostOnOne, ...error }) => ({
      ...error,
      // First sightings on records the ring let go of, or before the unit: no fewer than one
      // emitter saw.
      count: Math.max(1, error.count, mostOnOne),
      lastAgoMs: Math.max(0, Math.round(now - lastAt)),
    }));
}
