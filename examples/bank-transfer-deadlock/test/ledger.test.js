'use strict';
const { nameLock } = require('hangwatch/sync');
const { Account, transfer } = require('../src/ledger');

/** An account whose lock reports call by the account's name (the app code stays as it is). */
function account(id, balance) {
  const opened = new Account(id, balance);
  nameLock(opened.lock, `account ${id}`);
  return opened;
}

test('settles a payment and its refund at the same time', async () => {
  const alice = account('alice', 100);
  const bob = account('bob', 50);
  await Promise.all([transfer(alice, bob, 30), transfer(bob, alice, 30)]);
  expect(alice.balance).toBe(100);
  expect(bob.balance).toBe(50);
});
