'use strict';
const { createOrderServer } = require('../src/order-server');

const orders = new Map([[42, { id: 42, item: 'teapot', quantity: 1 }]]);
const store = { find: async (id) => orders.get(id) };

let server;
let baseUrl;

beforeAll(async () => {
  server = createOrderServer(store);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});

afterAll(() => {
  // Drop connections still waiting for an answer, or Jest could not exit.
  server.closeAllConnections();
  server.close();
});

test('returns an existing order', async () => {
  const res = await fetch(`${baseUrl}/orders/42`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ id: 42, item: 'teapot', quantity: 1 });
});

test('answers 404 for an unknown order', async () => {
  const res = await fetch(`${baseUrl}/orders/7`);
  expect(res.status).toBe(404);
});

test('rejects a malformed order id with 400', async () => {
  const res = await fetch(`${baseUrl}/orders/abc`);
  expect(res.status).toBe(400);
});
