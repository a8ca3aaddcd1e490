import NodeEnvironment from 'jest-environment-node';
import { withHangwatch } from './environment';

/** `testEnvironment: 'hangwatch/environment'`: jest-environment-node with hangwatch. */
export const TestEnvironment = withHangwatch(NodeEnvironment);
export default TestEnvironment;
