'use strict';
const { Account, transfer } = require('../src/ledger');

test('settles a payment and its refund at the same time', async () => {
  const alice = new Account('alice', 100);
  const bob = new Account('bob', 50);
  await Promise.all([transfer(alice, bob, 30), transfer(bob, alice, 30)]);
  expect(alice.balance).toBe(100);
  expect(bob.balance).toBe(50);
});
