import { describeTestedVersions, isTestedVersion } from '../../src/adapters/async-mutex-version';

test('the async-mutex adapter instruments only the versions it was tested with', () => {
  expect(describeTestedVersions()).toBe('>=0.5.0 <0.6.0');
  for (const version of ['0.5.0', '0.5.7', '0.5.12+build.3']) {
    expect(isTestedVersion(version)).toBe(true);
  }
  for (const version of ['0.4.1', '0.6.0', '1.0.0', '0.6.0-beta.1', '0.5.1-rc.0', '', 'latest']) {
    expect(isTestedVersion(version)).toBe(false);
  }
});
