import type { EnvironmentContext, JestEnvironment, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { Lifecycle } from './lifecycle';
import { LoopWatch } from './loop-watch';
import { parseOptions } from './options';
import { leaveOwnFramesOut } from './own-frames';
import { HangwatchSession } from './session';
import { noteSetupGaps } from './setup-check';
import { useFrameMappingScope } from '../core/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EnvironmentClass = new (...args: any[]) => JestEnvironment;

/**
 * Adds hangwatch to any Jest test environment class (node, jsdom or a custom one): the same
 * lifecycle as the base, plus resource tracking from `setup` to `teardown` and a circus event
 * handler. Options come from `testEnvironmentOptions.hangwatch`.
 */
export function withHangwatch<Base extends EnvironmentClass>(BaseEnvironment: Base): Base {
  class HangwatchEnvironment extends BaseEnvironment {
    readonly lifecycle: Lifecycle | undefined;
    readonly hangwatch: HangwatchSession | undefined;
    readonly loopWatch: LoopWatch | undefined;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      const [config, context] = args as [JestEnvironmentConfig, EnvironmentContext];
      super(config, context);
      // Invalid options stop the run here, naming the key; nothing else in hangwatch may.
      const options = parseOptions(config.projectConfig.testEnvironmentOptions?.hangwatch);
      if (!options.enabled) return;
      try {
        noteSetupGaps(config.projectConfig, config.globalConfig);
      } catch {
        // a notice, never a reason to fail a test file
      }
      // Frames its reports map may reuse those an earlier file of the same project mapped.
      useFrameMappingScope(mappingScopeOf(config));
      // One lifecycle per file; the session's parts subscribe first, the loop watchdog after.
      this.lifecycle = new Lifecycle(context.testPath);
      this.hangwatch = new HangwatchSession(
        {
          testPath: context.testPath,
          rootDir: config.projectConfig.rootDir,
          options,
          host: this,
          console: context.console,
          verbose: options.leakNotes,
          global: this.global as unknown as Record<string, unknown>,
          aside: (work) => (this.loopWatch ? this.loopWatch.aside(work) : work()),
        },
        this.lifecycle,
      );
      if (options.blockedLoop !== 'off') {
        this.loopWatch = new LoopWatch(
          {
            testPath: context.testPath,
            rootDir: config.projectConfig.rootDir,
            options,
            global: this.global as unknown as typeof globalThis,
          },
          this.lifecycle,
        );
      }
    }

    override async setup(): Promise<void> {
      await super.setup();
      // Before tracking starts: the watchdog's heartbeat timer is hangwatch's, not the test's.
      await this.loopWatch?.start();
      this.hangwatch?.start();
    }

    override async teardown(): Promise<void> {
      this.#showOwnFramesAgain?.();
      this.loopWatch?.stop();
      this.hangwatch?.stop();
      if (this.hangwatch) useFrameMappingScope(undefined);
      await super.teardown();
    }

    /**
     * The base's own handler: a prototype method, or an instance field (`handleTestEvent =
     * async (event) => {...}`) its constructor has just defined, which the field below replaces.
     * Fields initialise in order, so this one reads it before it is overwritten.
     */
    readonly #baseHandleTestEvent: JestEnvironment['handleTestEvent'] = Object.hasOwn(
      this,
      'handleTestEvent',
    )
      ? (this as JestEnvironment).handleTestEvent
      : (BaseEnvironment.prototype as JestEnvironment).handleTestEvent;

    // Jest binds this once at start-up; circus's own handler has already run for each event.
    // hangwatch goes first and synchronously: for declaration events (`add_test`) the circus state
    // it reads is only current during the dispatch itself.
    override handleTestEvent: Circus.EventHandler = (event, state) => {
      if (this.lifecycle && !this.#showOwnFramesAgain) this.#leaveOwnFramesOut();
      const own = this.lifecycle?.handleTestEvent(event, state);
      const inherited = this.#baseHandleTestEvent?.call(this, event as never, state);
      return own || inherited ? Promise.all([own, inherited]).then(() => undefined) : undefined;
    };

    /** Undoes `#leaveOwnFramesOut`: the main realm's formatter outlives the file. */
    #showOwnFramesAgain: (() => void) | undefined;

    /**
     * Stacks formatted while the file runs (an error the user logs, an uncaught one) leave out
     * hangwatch's wrappers. Jest installs its formatters after `setup`, before the first
     * circus event: the test realm's (Jest 29) and the main realm's, which formats the test
     * realm's errors when it has none (Jest 30).
     */
    #leaveOwnFramesOut(): void {
      const undos: (() => void)[] = [];
      this.#showOwnFramesAgain = () => undos.splice(0).forEach((undo) => undo());
      try {
        undos.push(leaveOwnFramesOut(Error));
        const realmError = (this.global as { Error?: { prepareStackTrace?: unknown } }).Error;
        if (realmError && realmError !== Error) undos.push(leaveOwnFramesOut(realmError));
      } catch {
        // stacks keep hangwatch's frames; nothing else changes
      }
    }
  }
  Object.defineProperty(HangwatchEnvironment, 'name', {
    value: `Hangwatch${BaseEnvironment.name}`,
  });
  return HangwatchEnvironment;
}

/**
 * What decides how Jest transforms a file, so how its frames map: the project (Jest's id for its
 * configuration) and whether coverage instruments the code. None without a project id.
 */
function mappingScopeOf(config: JestEnvironmentConfig): string | undefined {
  const { id } = config.projectConfig as { id?: unknown };
  if (typeof id !== 'string' || id === '') return undefined;
  const coverage = config.globalConfig?.collectCoverage
    ? `coverage:${String(config.globalConfig.coverageProvider)}`
    : 'no coverage';
  return `${id}\0${coverage}`;
}
