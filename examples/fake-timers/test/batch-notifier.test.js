'use strict';
const { BatchNotifier } = require('../src/batch-notifier');

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

test('sends a burst of notifications as one batch', async () => {
  const send = jest.fn(async () => {});
  const notifier = new BatchNotifier(send);

  const delivered = Promise.all([
    notifier.notify('deploy started'),
    notifier.notify('deploy done'),
  ]);
  await jest.advanceTimersByTimeAsync(1000);
  await delivered;

  expect(send).toHaveBeenCalledTimes(1);
  expect(send).toHaveBeenCalledWith(['deploy started', 'deploy done']);
});

test('sends a single notification after the flush delay', async () => {
  const send = jest.fn(async () => {});
  const notifier = new BatchNotifier(send);

  // The bug: this awaits delivery before advancing the fake clock, and the flush timer can only
  // fire when the clock moves, so the await never ends.
  await notifier.notify('backup finished');
  jest.advanceTimersByTime(1000);

  expect(send).toHaveBeenCalledWith(['backup finished']);
});
