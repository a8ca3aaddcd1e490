import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { HangwatchHandledError } from '../../src/core/await-stacks/recorder';
import { describeHandledErrors } from '../../src/core/handled-errors';

class Client extends EventEmitter {}

describe('describeHandledErrors', () => {
  const mine = { unit: 'hung' };
  const other = { unit: 'another test' };
  const refused = 'connect ECONNREFUSED 127.0.0.1:6399';
  const record = (
    emitter: object,
    message: string,
    owner: unknown,
    at: number,
    count = 1,
    emits = Math.max(count, 1),
  ) => {
    const error = new HangwatchHandledError(count, emitter, message, 'ECONNREFUSED', owner, at);
    error.emits = emits;
    return error;
  };

  test("one entry per message, its emitters in order, each failure counted once; others' left out", () => {
    // Five failures: four first seen on a socket, one more on the client, which re-emitted the
    // socket's four too (counted there, not here).
    const records = [
      record(new Socket(), refused, mine, 100, 4),
      record(new Client(), refused, mine, 140, 1),
      record(new Client(), 'socket hang up', other, 150),
      undefined,
    ];
    expect(describeHandledErrors(records, (owner) => owner === mine, 0, 200)).toEqual([
      {
        message: refused,
        code: 'ECONNREFUSED',
        emitters: ['Socket', 'Client'],
        count: 5,
        lastAgoMs: 60,
      },
    ]);
  });

  test('retries on new objects each time: one record per attempt and emitter, summed', () => {
    // Each attempt: a socket, the request that re-emits its error, the client's wrapper.
    const records = Array.from({ length: 10 }, (_, attempt) => [
      record(new Socket(), refused, mine, 100 + attempt, 1),
      record(new Client(), refused, mine, 100 + attempt, 0),
    ]).flat();
    expect(describeHandledErrors(records, () => true, 0, 200)[0].count).toBe(10);
  });

  test('a client that re-emits its sockets’ errors keeps the count when their records are gone', () => {
    // The ring kept the client's record only: it saw all 250, first seen on the sockets.
    const records = [record(new Client(), refused, mine, 100, 0, 250)];
    expect(describeHandledErrors(records, () => true, 0, 200)[0].count).toBe(250);
  });

  test('only since the unit started, newest first', () => {
    const records = [
      record(new Client(), 'before it started', mine, 10),
      record(new Client(), 'first', mine, 110),
      record(new Client(), 'second', mine, 120),
    ];
    expect(
      describeHandledErrors(records, () => true, 100, 130).map((error) => error.message),
    ).toEqual(['second', 'first']);
  });
});
