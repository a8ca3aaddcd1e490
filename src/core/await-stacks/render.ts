import { formatBytes, formatDuration, plural, withArticle } from '../format';
import type {
  AwaitedThing,
  AwaitFlow,
  CreationSite,
  Frame,
  HangFinding,
  SlotHolder,
  StreamReader,
  StreamSource,
  StreamState,
  StreamWaitVia,
} from '../model';
import { formatLocation, formatSite } from '../render/location';

/** The "It is awaiting" section: each flow's awaits, innermost first, and what the innermost waits on. */
export function renderAwaitSection(finding: HangFinding, rootDir: string): string[] {
  const flows = finding.awaits ?? [];
  if (flows.length === 0) return [];
  const heading =
    flows.length > 1
      ? `It is awaiting, in ${flows.length} concurrent flows (innermost first):`
      : 'It is awaiting (innermost first):';
  return [...flowSection(heading, 'flow', flows, rootDir), ...cycleLines(finding, rootDir)];
}

/** For a `done`-style unit: where `done` would be called from, and what each place waits for. */
export function renderDoneCallersSection(finding: HangFinding, rootDir: string): string[] {
  const callers = finding.doneCallers ?? [];
  if (callers.length === 0) return [];
  const heading =
    callers.length > 1
      ? `\`done\` would be called from ${callers.length} places, each still waiting (innermost first):`
      : '`done` would be called from here, which is still waiting (innermost first):';
  return flowSection(heading, 'place', callers, rootDir);
}

/**
 * Each flow's lines; flows that read the same (`Promise.all` over the same helper, execa reading
 * stdout and stderr alike) are written once, under the numbers of all of them.
 */
function flowSection(heading: string, each: string, flows: AwaitFlow[], rootDir: string): string[] {
  const lines = [heading];
  const several = flows.length > 1;
  const indent = several ? '    ' : '  ';
  const groups: { numbers: number[]; lines: string[]; key: string }[] = [];
  flows.forEach((flow, index) => {
    const awaiting = flow.awaiting ? describeAwaited(flow.awaiting, rootDir) : [];
    const flowLines = [
      ...awaiting.map((line) => `${indent}${line}`),
      ...stepLines(flow, rootDir, indent),
    ];
    const key = flowLines.join('\n');
    const same = groups.find((group) => group.key === key);
    if (same) same.numbers.push(index + 1);
    else groups.push({ numbers: [index + 1], lines: flowLines, key });
  });
  for (const group of groups) {
    if (several) {
      lines.push(
        group.numbers.length === 1
          ? `  ${each} ${group.numbers[0]}:`
          : `  ${each}s ${listNumbers(group.numbers)} (the same awaits):`,
      );
    }
    lines.push(...group.lines);
  }
  return lines;
}

/** Two or more numbers: "1, 2 and 3". */
function listNumbers(numbers: number[]): string {
  return `${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
}

function where(frame: Frame, rootDir: string): string {
  return formatLocation(frame, rootDir);
}

function stepLines(flow: AwaitFlow, rootDir: string, indent: string): string[] {
  const places = flow.steps.map((step) => {
    const via =
      step.frame.origin === 'dependency' && step.frame.packageName
        ? ` (in ${step.frame.packageName})`
        : '';
    return `${where(step.frame, rootDir)}${via}`;
  });
  const width = Math.max(...places.map((place) => place.length));
  return flow.steps.map((step, index) =>
    `${indent}${places[index].padEnd(width)} ${step.sourceLine ?? ''}`.trimEnd(),
  );
}

function siteText(site: CreationSite | undefined, rootDir: string): string {
  return formatSite(site, rootDir) ?? '';
}

/** Plain words for what the innermost await waits on. */
export function describeAwaited(awaited: AwaitedThing, rootDir: string): string[] {
  switch (awaited.kind) {
    case 'promise': {
      const at = siteText(awaited.site, rootDir);
      return [
        `waits on a new Promise whose resolve and reject have not been called${at ? `; its executor: ${at}` : ''}`,
      ];
    }
    case 'mock': {
      const at = siteText(awaited.site, rootDir);
      return [
        `waits on a promise a jest.fn() mock returned, which never settles${at ? `; made at ${at}` : ''}`,
      ];
    }
    case 'library': {
      const entered = awaited.enteredAt
        ? `, entered at ${where(awaited.enteredAt, rootDir)}${awaited.enteredSourceLine ? `   ${awaited.enteredSourceLine}` : ''}`
        : '';
      const through = awaited.calledPackage ? `, reached through ${awaited.calledPackage}` : '';
      return [
        `waits inside ${awaited.packageName}${through}${entered}`,
        ...holderLines(awaited.packageName, awaited.holders ?? [], rootDir),
      ];
    }
    case 'event': {
      const at = siteText(awaited.site, rootDir);
      const waiting =
        awaited.waitingMs !== undefined ? ` for ${formatDuration(awaited.waitingMs)}` : '';
      const or = awaited.orEvents?.length
        ? ` (or ${awaited.orEvents.map((event) => `'${event}'`).join(', ')})`
        : '';
      const lines = [
        `waits for event '${awaited.event}'${or} on ${/^[AEIOU]/.test(awaited.emitter) ? 'an' : 'a'} ${awaited.emitter}${waiting}${at ? `; the wait began at ${at}` : ''}`,
      ];
      if (awaited.missed) {
        const missedAt = siteText(awaited.missed.site, rootDir);
        lines.push(
          `'${awaited.event}' was emitted ${formatDuration(awaited.missed.beforeMs)} before this wait started, so the wait missed it${missedAt ? `; emitted at ${missedAt}` : ''}`,
        );
      }
      if (awaited.input) lines.push(inputLine(awaited.input));
      return lines;
    }
    case 'callback': {
      const at = siteText(awaited.site, rootDir);
      const waiting =
        awaited.waitingMs !== undefined ? ` for ${formatDuration(awaited.waitingMs)}` : '';
      const name = awaited.functionName ?? 'a function';
      return [
        `waits for ${awaited.functionName ? `${name}()` : name} to call its callback (promisified with util.promisify)${waiting}${at ? `; ${name} is defined at ${at}` : ''}`,
      ];
    }
    case 'stream': {
      const waiting =
        awaited.waitingMs !== undefined ? ` for ${formatDuration(awaited.waitingMs)}` : '';
      const { state, pipeline } = awaited;
      const which = pipeline
        ? `stage ${pipeline.position} of ${pipeline.length}, ${withArticle(state.stream)}: `
        : '';
      return [
        `${streamWaitHeadline(awaited.via, state.stream, pipeline?.length)}${waiting}`,
        // Read by a function stage, or fed by a generator, stopped at an await of its own: that
        // is why it is not read, or has not pushed its end.
        ...(awaited.reader || awaited.source
          ? [
              ...(awaited.reader ? readerLines(awaited.reader, which, rootDir) : []),
              ...(awaited.source ? sourceLines(awaited.source, which, rootDir) : []),
            ]
          : streamReason(state, awaited.via).map((reason) => `${which}${reason}`)),
      ];
    }
  }
}

/** The pipeline's function stage that reads a stream, where it is stopped and why. */
function readerLines(reader: StreamReader, which: string, rootDir: string): string[] {
  const named = reader.function ? ` ${reader.function}()` : '';
  const article = reader.function ? 'the' : 'an';
  return [
    `${which}it is read by ${article} ${reader.kind}${named}, stopped at an await of its own (innermost first):`,
    ...(reader.awaiting ? describeAwaited(reader.awaiting, rootDir) : []).map(
      (line) => `  ${line}`,
    ),
    ...stepLines({ steps: reader.steps }, rootDir, '  '),
  ];
}

/** The generator that feeds a stream (`Readable.from`, a pipeline), where it is stopped and why. */
function sourceLines(source: StreamSource, which: string, rootDir: string): string[] {
  const generator = source.generator
    ? `the async generator ${source.generator}()`
    : 'an async generator';
  return [
    `${which}it is fed by ${generator}, stopped at an await of its own (innermost first):`,
    ...(source.awaiting ? describeAwaited(source.awaiting, rootDir) : []).map(
      (line) => `  ${line}`,
    ),
    ...stepLines({ steps: source.steps }, rootDir, '  '),
  ];
}

/** A readline interface's input that has not ended: its lines, and its 'close', wait on it. */
function inputLine(input: StreamState): string {
  const reasons = streamReason(input, 'iteration');
  return `its input, ${withArticle(input.stream)}, has not ended${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`;
}

function streamWaitHeadline(via: StreamWaitVia, stream: string, length = 1): string {
  switch (via) {
    case 'finished':
      return `waits for ${withArticle(stream)} to finish (stream/promises finished)`;
    case 'iteration':
      return `waits for the next chunk or the end of ${withArticle(stream)} (for await)`;
    case 'pipeline':
      return `waits for a pipeline of ${plural(length, 'stage')} to finish (stream/promises pipeline)`;
  }
}

function amount(count: number, objectMode: boolean): string {
  return objectMode ? plural(count, 'object') : formatBytes(count);
}

function are(count: number): string {
  return count === 1 ? 'is' : 'are';
}

/** Why the stream has not ended or finished yet, in the terms of what the user's code must do. */
export function streamReason(state: StreamState, via: StreamWaitVia): string[] {
  const { readable, writable } = state;
  // Destroyed, it has settled every wait on it: nothing to say.
  if (state.destroyed) return [];
  if (readable && !readable.ended) {
    const unread = amount(readable.buffered, readable.objectMode);
    const nobodyReads = readable.flowing !== true && via !== 'iteration';
    if (readable.endPushed) {
      // Nothing left to read but the end itself: whatever reads it stopped short of it.
      if (readable.buffered === 0)
        return ['its end was pushed, but nothing has read it to the end'];
      return [
        nobodyReads
          ? `its end was pushed, but ${unread} ${are(readable.buffered)} still unread and nothing reads them: read it to the end (resume(), a 'data' listener, or pipe it on)`
          : `its end was pushed, but ${unread} ${are(readable.buffered)} still unread`,
      ];
    }
    if (state.socket) return [socketReason(state.socket)];
    if (writable && !writable.endCalled) {
      return [
        `end() was never called on it, so it never ends${readable.buffered > 0 ? ` (${unread} written to it, unread)` : ''}`,
      ];
    }
    if (writable) {
      return [
        nobodyReads && readable.buffered > 0
          ? `end() was called, but its output is never read: ${unread} ${are(readable.buffered)} waiting (resume() it, or pipe it on)`
          : `end() was called, but its readable side has not ended yet: its transform has not pushed everything`,
      ];
    }
    return [
      `its source has not pushed the end (push(null))${nobodyReads && readable.buffered > 0 ? `, and ${unread} ${are(readable.buffered)} unread with nothing reading them` : ''}`,
    ];
  }
  if (writable && !writable.finished) {
    if (!writable.endCalled) return ['end() was never called on it'];
    if (writable.buffered > 0) {
      return [
        `end() was called, but ${amount(writable.buffered, writable.objectMode)} written to it ${are(writable.buffered)} still buffered: where it writes to does not take them`,
      ];
    }
    return [
      'end() was called, but it has not finished: its last write or final step never completed',
    ];
  }
  return [];
}

/** What must end a socket's data: the process at the other end of a pipe, or the TCP peer. */
function socketReason(socket: NonNullable<StreamState['socket']>): string {
  if (socket.pipe) {
    return "it is a pipe: its data ends only when the process at the other end closes it or exits (a child process's stdout ends when the child exits)";
  }
  return `it is a connection${socket.peer ? ` to ${socket.peer}` : ''}: its data ends only when the peer ends the connection, or when it is destroyed`;
}

/** Who holds the package's slots: the flow itself, or jobs grouped by the await they wait at. */
function holderLines(packageName: string, holders: SlotHolder[], rootDir: string): string[] {
  const lines: string[] = [];
  if (holders.some((holder) => holder.sameFlow)) {
    lines.push(
      `${packageName} runs this very flow as one of its jobs: the flow holds a slot of ${packageName} while it waits for one`,
    );
  }
  const byPlace = new Map<string, { count: number; waitsOnPackage: boolean }>();
  for (const holder of holders.filter((h) => !h.sameFlow)) {
    const at = `${where(holder.frame, rootDir)}${holder.sourceLine ? `   ${holder.sourceLine}` : ''}`;
    const place = byPlace.get(at) ?? { count: 0, waitsOnPackage: false };
    place.count++;
    place.waitsOnPackage ||= holder.waitsOnPackage === true;
    byPlace.set(at, place);
  }
  for (const [at, { count, waitsOnPackage }] of byPlace) {
    lines.push(
      count === 1
        ? `a slot is held by a job ${packageName} is running, waiting at ${at}`
        : `${count} slots are held by jobs ${packageName} is running, each waiting at ${at}`,
    );
    if (waitsOnPackage) {
      lines.push(
        `  that job itself waits on ${packageName}: if on this same one, it holds a slot while it waits for one, and neither can go on (${packageName} used inside its own job)`,
      );
    }
  }
  return lines;
}

/** The frames a hang error's stack should start with: the innermost user await's flow. */
export function awaitCulpritFrames(finding: HangFinding): Frame[] {
  for (const flow of [...(finding.awaits ?? []), ...(finding.doneCallers ?? [])]) {
    // A stream's reader stage or source generator stopped at an await of its own: that await
    // is the innermost.
    const stream = flow.awaiting?.kind === 'stream' ? flow.awaiting : undefined;
    const stopped = [...(stream?.reader?.steps ?? []), ...(stream?.source?.steps ?? [])];
    const user = [...stopped, ...flow.steps].filter((step) => step.frame.origin === 'user');
    if (user.length > 0) return user.map((step) => step.frame);
  }
  return [];
}

/** An event-wait cycle, drawn like a lock cycle: each flow, what it waits for, what it would emit. */
function cycleLines(finding: HangFinding, rootDir: string): string[] {
  const cycle = finding.eventCycle;
  if (!cycle) return [];
  const lines = [
    `Event-wait cycle: each of these flows waits for an event that only the next one emits, after its own wait:`,
  ];
  for (const step of cycle) {
    const at = step.emitsAt
      ? ` at ${formatLocation(step.emitsAt, rootDir)}${step.emitsSourceLine ? `   ${step.emitsSourceLine}` : ''}`
      : '';
    lines.push(
      `  flow ${step.flow + 1} waits for '${step.event}' on its ${step.emitter}, then would emit '${step.emits}'${at}`,
    );
  }
  lines.push(`  ...and flow ${cycle[0].flow + 1} again: no flow can go on.`);
  return lines;
}
