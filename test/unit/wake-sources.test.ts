import * as http from 'node:http';
import { ResourceTracker } from '../../src/core/tracker';
import { WakeSources } from '../../src/core/wake-sources';

const owner = { name: 'serves a health check' };
let tracker: ResourceTracker<typeof owner>;

beforeEach(() => {
  tracker = new ResourceTracker({ ownerOf: () => owner, promises: false });
  tracker.enable();
});

afterEach(() => tracker.disable());

test('after a finished HTTP request, the timer Node keeps for its Date header wakes nothing', async () => {
  const wakeSources = new WakeSources();
  wakeSources.takeBaseline();
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) => {
    http
      .get({ port, host: '127.0.0.1', agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
  // While the server listens, it is what could wake a waiting test.
  expect(wakeSources.firstWaker(tracker)).toMatchObject({ type: 'TCPSERVERWRAP' });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // Node delivers the destruction of the server's and the sockets' handles a turn or two later.
  const isSocket = (type: string) => type.startsWith('TCP');
  for (let turn = 0; turn < 50 && tracker.live().some((record) => isSocket(record.type)); turn++) {
    await tracker.untracked(() => new Promise((resolve) => setImmediate(resolve)));
  }
  // Node's Date-header timer is still armed (unref'd, about a second): not a waker.
  expect(
    tracker
      .live()
      .some((record) => record.type === 'Timeout' && !(record.resource as NodeJS.Timeout).hasRef()),
  ).toBe(true);
  expect(wakeSources.firstWaker(tracker)).toBeUndefined();
});
