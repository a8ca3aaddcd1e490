'use strict';
const http = require('node:http');
const { retry } = require('./retry');

class InventoryUnavailableError extends Error {
  name = 'InventoryUnavailableError';
}

/** Reads stock levels from the inventory service, retrying while it is briefly unavailable. */
class InventoryClient {
  #baseUrl;
  #shutdown = new AbortController();

  constructor(baseUrl) {
    this.#baseUrl = baseUrl;
  }

  async stockOf(sku) {
    try {
      const url = `${this.#baseUrl}/stock/${encodeURIComponent(sku)}`;
      const signal = this.#shutdown.signal;
      const body = await retry(() => getJson(url, signal), { retries: 3, signal });
      return body.quantity;
    } catch (error) {
      throw new InventoryUnavailableError(`stock of ${sku} unavailable: ${error.message}`, {
        cause: error,
      });
    }
  }

  /** Cancels requests and retries in flight, e.g. at shutdown. */
  close() {
    this.#shutdown.abort(new Error('inventory client closed'));
  }
}

function getJson(url, signal) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { signal }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) return resolve(JSON.parse(text));
          const error = new Error(`GET ${url} answered ${res.statusCode}`);
          error.retryable = res.statusCode >= 500;
          reject(error);
        });
      })
      .on('error', reject);
  });
}

module.exports = { InventoryClient, InventoryUnavailableError };
