import type NodeEnvironmentClass from 'jest-environment-node';
import { withHangwatch } from './environment';
import { requireFromRunningJest } from './peers';

// The jest-environment-node of the Jest that runs this file (Jest 29 gets 29's, 30 gets 30's),
// found where Jest itself finds it: nothing to install, and no mismatched copy from npm's peers.
const { default: NodeEnvironment } = requireFromRunningJest<{
  default: typeof NodeEnvironmentClass;
}>('jest-environment-node', "hangwatch's node environment");

/** `testEnvironment: 'hangwatch/environment'`: jest-environment-node with hangwatch. */
export const TestEnvironment = withHangwatch(NodeEnvironment);
export default TestEnvironment;
