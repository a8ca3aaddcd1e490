'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createConfigLoader } = require('../src/config-loader');

let configFile;

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-loader-'));
  configFile = path.join(dir, 'app.json');
  fs.writeFileSync(configFile, JSON.stringify({ port: 8080 }));
});

afterAll(() => {
  fs.rmSync(path.dirname(configFile), { recursive: true, force: true });
});

test('reads a config file', (done) => {
  const loadConfig = createConfigLoader();
  loadConfig(configFile, (error, config) => {
    expect(error).toBeNull();
    expect(config).toEqual({ port: 8080 });
    done();
  });
});

test('serves a second load from the cache', (done) => {
  const loadConfig = createConfigLoader();
  loadConfig(configFile, () => {
    fs.unlinkSync(configFile); // proves the second load does not read the file again
    loadConfig(configFile, (error, config) => {
      expect(config).toEqual({ port: 8080 });
      done(error);
    });
  });
});
