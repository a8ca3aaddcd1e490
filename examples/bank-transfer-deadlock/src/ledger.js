'use strict';
const { Mutex } = require('async-mutex');

class Account {
  constructor(id, balance) {
    this.id = id;
    this.balance = balance;
    this.lock = new Mutex();
  }
}

/** Stands in for the write to the ledger table, which takes a moment. */
const recordEntry = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Moves money between two accounts, each locked while its balance changes. The bug: the locks
 * are taken in argument order, so a transfer and a refund running at once (A to B, B to A) each
 * hold one account and wait forever for the other. Fix: lock the lower account id first.
 */
async function transfer(from, to, amount) {
  const releaseFrom = await from.lock.acquire();
  try {
    await recordEntry();
    const releaseTo = await to.lock.acquire();
    try {
      from.balance -= amount;
      to.balance += amount;
    } finally {
      releaseTo();
    }
  } finally {
    releaseFrom();
  }
}

module.exports = { Account, transfer };
