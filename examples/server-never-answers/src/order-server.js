'use strict';
const http = require('node:http');

/** A small JSON API over an order store: `GET /orders/:id`. */
function createOrderServer(store) {
  return http.createServer(async (req, res) => {
    const match = /^\/orders\/([^/]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) {
      sendJson(res, 404, { error: 'no such route' });
      return;
    }
    const id = match[1];
    if (!/^\d+$/.test(id)) {
      // The bug: this path sets a status but never sends the response, so the client waits.
      res.statusCode = 400;
      return;
    }
    const order = await store.find(Number(id));
    if (!order) {
      sendJson(res, 404, { error: `no order ${id}` });
      return;
    }
    sendJson(res, 200, order);
  });
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

module.exports = { createOrderServer };
