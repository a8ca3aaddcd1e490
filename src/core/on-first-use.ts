/**
 * A value made the first time it is asked for. Test processes load hangwatch at start-up, and most
 * never report anything: what builds and words a report (renderers, heap-snapshot readers, source
 * maps, stack parsers) is loaded through this on the first report instead.
 */
export function onFirstUse<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
