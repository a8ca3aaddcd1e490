import JsdomEnvironment from 'jest-environment-jsdom';
import { withHangwatch } from './environment';

/** `testEnvironment: 'hangwatch/environment/jsdom'`: jest-environment-jsdom with hangwatch. */
export const TestEnvironment = withHangwatch(JsdomEnvironment);
export default TestEnvironment;
