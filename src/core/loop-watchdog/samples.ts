import type { Frame } from '../model';

/**
 * Several stack samples of one blocked loop, reduced to the one to report: the frame of the
 * project's own code most samples agree on. A single pause may land where the user's frame is not
 * on the stack (V8 running the microtask queue between two steps of an `await` loop, a native
 * helper), so one sample alone can miss the line.
 */
function userKey(frames: Frame[]): string | undefined {
  const top = frames.find((frame) => frame.origin === 'user');
  return top ? `${top.file}:${top.line}` : undefined;
}

function tally(samples: Frame[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    const key = userKey(sample);
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** How many samples share the most common user frame. */
export function agreeingCount(samples: Frame[][]): number {
  return Math.max(0, ...tally(samples).values());
}

/**
 * The sample whose user frame most samples share (the first such); without any user frame, the
 * sample with the most frames outside Node and Jest; `[]` for no samples.
 */
export function agreedSample(samples: Frame[][]): Frame[] {
  const counts = tally(samples);
  let best: string | undefined;
  for (const [key, count] of counts)
    if (best === undefined || count > counts.get(best)!) best = key;
  if (best !== undefined) return samples.find((sample) => userKey(sample) === best)!;
  const outside = (sample: Frame[]) => sample.filter((frame) => frame.origin !== 'internal').length;
  return samples.reduce<Frame[]>(
    (chosen, sample) => (outside(sample) > outside(chosen) ? sample : chosen),
    samples[0] ?? [],
  );
}
