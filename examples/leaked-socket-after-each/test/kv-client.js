'use strict';
const net = require('node:net');

const openClients = new Set();

/** Connects a line-protocol client; `send` resolves with the server's one-line answer. */
async function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  openClients.add(socket);
  socket.once('close', () => openClients.delete(socket));
  socket.setEncoding('utf8');
  const lines = [];
  const waiting = [];
  let buffered = '';
  socket.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      lines.push(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
    while (lines.length > 0 && waiting.length > 0) waiting.shift()(lines.shift());
  });
  return {
    send(command) {
      socket.write(`${command}\n`);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Disconnects every client still open, so no test leaves a socket behind. */
function disconnectAll() {
  for (const socket of openClients) socket.destroy();
}

module.exports = { connect, disconnectAll };
