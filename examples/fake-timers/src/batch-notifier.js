'use strict';

/**
 * Collects notifications for `flushDelayMs` and sends them as one batch, so a burst of events
 * becomes a single message. `notify` resolves once its batch has been sent.
 */
class BatchNotifier {
  #send;
  #flushDelayMs;
  #pending = [];
  #timer = undefined;

  constructor(send, { flushDelayMs = 1000 } = {}) {
    this.#send = send;
    this.#flushDelayMs = flushDelayMs;
  }

  notify(message) {
    return new Promise((resolve, reject) => {
      this.#pending.push({ message, resolve, reject });
      if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flush(), this.#flushDelayMs);
      }
    });
  }

  async #flush() {
    const batch = this.#pending;
    this.#pending = [];
    this.#timer = undefined;
    try {
      await this.#send(batch.map((entry) => entry.message));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    }
  }
}

module.exports = { BatchNotifier };
