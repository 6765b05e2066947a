import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const ROOT = join(__dirname, '..', '..');

/** The figures' keys: anything more or less breaks whoever reads the line. */
const SHAPE = {
  crypto: ['oursPerSec', 'peerPerSec', 'floorPerSec', 'messageBytes'],
  pipeline: ['p50Us', 'p99Us'],
  coldStartMs: ['aws', 'aliyun', 'bareNode'],
  bundleBytes: ['aws', 'aliyun'],
  streamAckMs: ['p50', 'p99'],
  suiteCheckMs: ['aws', 'aliyun'],
};

describe('npm run bench, at the quick scale', function () {
  this.timeout(180_000);
  let lines: string[];
  before(async function () {
    // Everything npm run bench does (packaging both configurations, every measurement), only shorter.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/index.ts', '--quick'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    lines = stdout.trimEnd().split('\n');
  });

  it('ends with one JSON object holding exactly the agreed keys, each a positive number', function () {
    const result = JSON.parse(lines.at(-1)!) as Record<string, Record<string, unknown>>;
    expect(Object.keys(result)).to.deep.equal(Object.keys(SHAPE));
    for (const [group, keys] of Object.entries(SHAPE)) {
      expect(Object.keys(result[group]!), group).to.deep.equal(keys);
      for (const key of keys) expect(result[group]![key], `${group}.${key}`).to.be.a('number').above(0);
    }
    expect(result.crypto!.messageBytes).to.be.within(900, 1500); // the ~1 KB approval
  });

  it('prints the table first: both payloads, the pipeline, a cold start row per bundle and gateway, and one per AWS client', function () {
    const table = lines.slice(0, -1).join('\n');
    expect(table).to.match(/^approval 1\.\d KB +[\d,]+ +[\d,]+ +[\d,]+ +[\d.]+x +[\d.]+x$/m);
    expect(table).to.match(/^attendance 2\d KB +[\d,]+/m);
    expect(table).to.match(/p50 \d+ µs, p99 \d+ µs/);
    expect(table).to.match(/frame received to ack sent, store included: p50 [\d.]+ ms, p99 [\d.]+ ms/);
    expect(table).to.match(/^ {2}\d+ acked SUCCESS, \d+ LATER, \d+ stored once; all acked \d+ ms after the first push$/m);
    for (const name of ['bare node', 'aws http api', 'aws rest api', 'aliyun', 'AWS SDK v3', '@aws-lite/client', 'aws-json-client \\(ours\\)']) {
      expect(table).to.match(new RegExp(`^${name} +\\d+ ms`, 'm'));
    }
  });

  it('marks every figure that has a target met, or MISSED by how much', function () {
    const table = lines.slice(0, -1).join('\n');
    const verdict = '(met|MISSED by (\\d+ (ms|µs|KB|s|opens|\\$|¥)|[\\d.]+x))';
    for (const name of ['aws http api', 'aws rest api', 'aliyun']) expect(table).to.match(new RegExp(`^${name} +\\d+ ms .* ${verdict}$`, 'm'));
    expect(table).to.match(new RegExp(`ours >= 10x the peer \\(${verdict}\\) and >= 0\\.6x the floor \\(${verdict}\\)`));
    expect(table).to.match(new RegExp(`target p99 < 1000 µs: ${verdict}\\)`));
    expect(table).to.match(new RegExp(`target p99 < 3000 ms, DingTalk's budget: ${verdict}\\)`));
    // The suite URL check's section: its header, then a row per bundle and gateway against DingTalk's 1.2 s.
    expect(table).to.match(new RegExp(`^ISV suite URL check \\(check_create_suite_url.*\\n.*within DingTalk's 1200 ms\\n${['aws http api', 'aws rest api', 'aliyun'].map((name) => `${name} +\\d+ ms .* ${verdict}`).join('\\n')}$`, 'm'));
    for (const cloud of ['aws', 'aliyun']) {
      expect(table).to.match(new RegExp(`^  ${cloud} +longest moment with no connection \\d+ s \\(target 0 s: ${verdict}\\); [\\d,]+ opens a month \\(target <= 5,000, the server-API quota: ${verdict}\\); [\\d,]+ s = [\\d,]+ GB-s = .[\\d.]+ a month, .* \\(target <= .\\d+: ${verdict}\\)$`, 'm'));
    }
    expect(table).to.match(new RegExp(`zips aws [\\d.]+ KB under 500 KB: ${verdict}, aliyun [\\d.]+ KB under 1536 KB: ${verdict}`));
  });
});
