import type JsdomEnvironmentClass from 'jest-environment-jsdom';
import { withHangwatch } from './environment';
import { requirePeer } from './peers';

// An optional peer: without it, one line saying what to install, not a require stack.
const { default: JsdomEnvironment } = requirePeer<{ default: typeof JsdomEnvironmentClass }>(
  'jest-environment-jsdom',
  "hangwatch's jsdom environment",
);

/** `testEnvironment: 'hangwatch/environment/jsdom'`: jest-environment-jsdom with hangwatch. */
export const TestEnvironment = withHangwatch(JsdomEnvironment);
export default TestEnvironment;
