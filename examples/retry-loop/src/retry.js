'use strict';

/**
 * Calls `operation` until it succeeds or `retries` retries have failed, waiting longer after each
 * failure (exponential backoff). `signal` aborts the wait, e.g. when the client shuts down.
 */
function retry(operation, { retries = 3, baseDelayMs = 100, maxDelayMs = 5000, signal } = {}) {
  const attempt = (attemptNumber) =>
    operation().catch(async (error) => {
      if (attemptNumber >= retries || !isRetryable(error)) throw error;
      await sleep(Math.min(baseDelayMs * 2 ** attemptNumber, maxDelayMs), signal);
      // The bug: the attempt number is passed on unchanged (not + 1), so every retry counts as
      // the first one and the budget is never used up: it retries every 100 ms, forever.
      return attempt(attemptNumber);
    });
  return attempt(0);
}

function isRetryable(error) {
  return error.retryable === true || ['ECONNREFUSED', 'ECONNRESET'].includes(error.code);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

module.exports = { retry };
