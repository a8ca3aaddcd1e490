'use strict';
const net = require('node:net');

/**
 * An in-memory key-value store over TCP, one command per line:
 * `SET key value` answers `OK`, `GET key` answers the value or `NIL`.
 */
function createKvServer() {
  const values = new Map();
  return net.createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        socket.write(`${execute(values, line)}\n`);
      }
    });
  });
}

function execute(values, line) {
  const [command, key, ...rest] = line.split(' ');
  switch (command) {
    case 'SET':
      values.set(key, rest.join(' '));
      return 'OK';
    case 'GET':
      return values.get(key) ?? 'NIL';
    default:
      return `ERR unknown command ${command}`;
  }
}

module.exports = { createKvServer };
