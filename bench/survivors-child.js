'use strict';
// Runs a project's Jest in this process under V8's sampling heap profiler, keeping the samples of
// objects a full collection freed later but leaving out those the young generation let go of: what
// is left is what survived a scavenge (promoted, or allocated in the old generation from the
// start) or was still alive at the end. On exit, writes the sampled bytes by allocation site.
//   node bench/survivors-child.js <out.json> [jest arguments...]   (BENCH_JEST_BIN: the Jest)
const fs = require('node:fs');
const inspector = require('node:inspector');

const [outFile, ...jestArgs] = process.argv.slice(2);
const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 16384,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: false,
});

/** Who allocated: the frame's package or place, so sites group the way a reader looks for them. */
function ownerOf(url) {
  if (!url) return 'native';
  if (url.startsWith('node:')) return 'node';
  if (/[\\/]\.hangwatch-bench[\\/]|[\\/]hangwatch[\\/]dist[\\/]/.test(url)) return 'hangwatch';
  const inPackage = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(url);
  return inPackage ? inPackage[1] : 'project';
}

process.on('exit', () => {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) throw error;
    const sites = new Map();
    let totalBytes = 0;
    const visit = (node) => {
      const { functionName, url, lineNumber } = node.callFrame;
      if (node.selfSize > 0) {
        const file = url.replace(/^.*[\\/]/, '');
        const key = `${ownerOf(url)} ${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
        sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
        totalBytes += node.selfSize;
      }
      for (const child of node.children) visit(child);
    };
    visit(result.profile.head);
    fs.writeFileSync(outFile, JSON.stringify({ totalBytes, sites: Object.fromEntries(sites) }));
  });
});

process.argv = [process.argv[0], process.env.BENCH_JEST_BIN, ...jestArgs];
require(process.env.BENCH_JEST_BIN);
