'use strict';
const { createKvServer } = require('../src/kv-server');
const { connect, disconnectAll } = require('./kv-client');

let server;

beforeEach(async () => {
  server = createKvServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
});

// The bug: server.close() calls back only once every connection has ended, but the test's client
// is still connected: disconnectAll() runs in afterAll, after every afterEach. Disconnecting
// before closing (in this afterEach) fixes it.
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterAll(() => disconnectAll());

test('reads back a value it stored', async () => {
  const client = await connect(server.address().port);

  expect(await client.send('SET colour teal')).toBe('OK');
  expect(await client.send('GET colour')).toBe('teal');
});
