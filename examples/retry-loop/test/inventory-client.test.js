'use strict';
const http = require('node:http');
const { InventoryClient, InventoryUnavailableError } = require('../src/inventory-client');

// A stand-in for the inventory service while it is down: every request gets a 503.
let inventoryService;
let client;

beforeAll(async () => {
  inventoryService = http.createServer((_req, res) => {
    res.writeHead(503, { 'retry-after': '1' }).end();
  });
  await new Promise((resolve) => inventoryService.listen(0, '127.0.0.1', resolve));
  client = new InventoryClient(`http://127.0.0.1:${inventoryService.address().port}`);
});

afterAll(() => {
  client.close();
  inventoryService.closeAllConnections();
  inventoryService.close();
});

test('gives up after 3 retries when the inventory service is down', async () => {
  await expect(client.stockOf('TEAPOT-1')).rejects.toThrow(InventoryUnavailableError);
});
