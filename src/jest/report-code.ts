import { onFirstUse } from '../core/on-first-use';

/**
 * Code that only a report needs (renderers, the await-stack reader and its source maps, the
 * blocked-loop report), loaded by the first report of a process rather than by every test
 * process at start-up: most runs never report anything. The hang report's builder has its own
 * loader in core (`core/hang-report-code`), shared with the leak check.
 */

export const renderText = onFirstUse(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('../core/render-text') as typeof import('../core/render-text'),
);

export const lockWords = onFirstUse(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('../core/render/locks') as typeof import('../core/render/locks'),
);

export const loopReports = onFirstUse(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('../core/loop-watchdog/report') as typeof import('../core/loop-watchdog/report'),
);

export const awaitRender = onFirstUse(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('../core/await-stacks/render') as typeof import('../core/await-stacks/render'),
);

export const awaitStacksReader = onFirstUse(
  () =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../core/await-stacks/read-await-stacks') as typeof import('../core/await-stacks/read-await-stacks'),
);

export const doneCallersReader = onFirstUse(
  () =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../core/await-stacks/done-callers') as typeof import('../core/await-stacks/done-callers'),
);
