import type { Finding, KeptAliveResource, PendingResource } from '../model';
import { noteLines } from './advice';
import { lockOrderFindingText, renderDeadlock } from './locks';
import { describePending } from './pending';

/**
 * A finding as the JSON report carries it: its facts, plus their words for readers that do not
 * render (each pending resource's `summary`, a finding's `notes`, a lock finding's `message`), made
 * by the views' own helpers.
 * A finding read back from a report keeps the words it was written with.
 */
export function withWords(finding: Finding, rootDir: string): Finding {
  switch (finding.kind) {
    case 'hang':
      return {
        ...finding,
        ...summaries('pending', finding.pending),
        ...summaries('pendingPromises', finding.pendingPromises),
        notes: noteLines(finding),
      };
    case 'leak':
      return { ...finding, ...summaries('resources', finding.resources) };
    case 'blocked-loop':
      return { ...finding, notes: noteLines(finding) };
    case 'deadlock':
      return {
        ...finding,
        message: finding.message ?? renderDeadlock(finding.deadlock, { rootDir }),
      };
    case 'lock-order':
      return { ...finding, message: finding.message ?? lockOrderFindingText(finding, { rootDir }) };
    default:
      return finding;
  }
}

export function keptAliveWithWords(entry: KeptAliveResource): KeptAliveResource {
  return { ...entry, resource: withSummary(entry.resource) };
}

/** `{ [key]: resources with their summaries }`; nothing for a list a malformed finding lacks. */
function summaries<Key extends string>(
  key: Key,
  resources: PendingResource[] | undefined,
): Partial<Record<Key, PendingResource[]>> {
  if (!Array.isArray(resources)) return {};
  return { [key]: resources.map(withSummary) } as Record<Key, PendingResource[]>;
}

function withSummary(resource: PendingResource): PendingResource {
  return { ...resource, summary: describePending(resource) };
}
