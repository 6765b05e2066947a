import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, toRecord, type EventRecord } from '../../core/events';
import { appFailedPage, recoveredRecord } from '../../core/failed-items';
import { envelopeJson } from '../../core/forward';
import { dataFields, frameRecord, readFrame } from '../../core/stream-frames';
import { syncRecords } from '../../core/sync-push';
import { webhookKey } from '../../core/webhook';
import { webhookSink } from '../../core/webhook-sink';
import { DEV_FORWARD_SECRET } from '../../providers/local/dev-credentials';
import { approvalItem } from '../../testkit/fake-dingtalk';
import { eventText, loadJson } from '../../testkit/fixtures';
import { freePort } from '../../testkit/ports';

const ROOT = join(__dirname, '..', '..');
const CONSUMER = 'examples/forward-consumer.mjs';
const OWNER = 'ding6ccabc44d2c8d38b';
const AT = new Date('2026-11-27T12:00:01.250Z');

/** One record of each source, each made by the code that makes it in the functions. */
function recordsOfEverySource(): Record<EventRecord['source'], EventRecord> {
  const push = toRecord(parseMessage(Buffer.from(eventText('bpms_instance_change'))), OWNER, AT);
  const [item] = appFailedPage({ failed_list: [approvalItem(7, OWNER)] }).items;
  const recovered = recoveredRecord(item!, () => OWNER, AT);
  const frame = readFrame(JSON.stringify({
    specVersion: '1.0',
    type: 'EVENT',
    headers: { messageId: 'msg-1', topic: '*', eventType: 'bpms_task_change', eventId: 'stream-evt-1', eventCorpId: OWNER, eventBornTime: '1700000004000', contentType: 'application/json' },
    data: JSON.stringify({ processInstanceId: 'a171de6c-8bb1-4a3e-b2d4-5f1e6c8d9e01', taskId: 63581430001, type: 'start' }),
  }));
  const stream = frameRecord(frame, dataFields(frame)!, () => OWNER, AT)!;
  const [sync] = syncRecords(parseMessage(Buffer.from(JSON.stringify(loadJson('sync_http_push_high')))), 'suitefake0000000001', AT)!;
  return { push, recovered, stream, sync: sync! };
}

const FIELDS = ['id', 'source', 'eventType', 'eventId', 'ownerKey', 'corpId', 'eventTime', 'receivedAt', 'processInstanceId', 'headers', 'payload'];

describe('the forward envelope: one shape whatever the source', function () {
  it('carries the same fields in the same order for a push, a recovered item, a Stream event and a SyncHTTP row; null where the source has none; the payload verbatim', function () {
    for (const [source, record] of Object.entries(recordsOfEverySource())) {
      const envelope = JSON.parse(envelopeJson(record)) as { type: string; timestamp: string; data: Record<string, unknown> };
      expect(Object.keys(envelope), source).to.deep.equal(['type', 'timestamp', 'data']);
      expect(Object.keys(envelope.data), source).to.deep.equal(FIELDS);
      expect(envelope.type).to.equal(record.eventType);
      expect(envelope.data).to.include({ source, id: record.id, eventType: record.eventType, eventId: record.eventId ?? null, corpId: record.corpId ?? null, eventTime: record.eventTime ?? null, processInstanceId: record.processInstanceId ?? null });
      expect(envelope.data.payload, source).to.deep.equal(JSON.parse(record.payload));
    }
  });

  it('docs/forward.md prints the consumer example as it is, and it runs as printed: verifies real deliveries signed with the development secret and reads each source alike', async function () {
    const text = readFileSync(join(ROOT, CONSUMER), 'utf8');
    const docs = readFileSync(join(ROOT, 'docs', 'forward.md'), 'utf8');
    expect(docs).to.include(`\`\`\`js\n${text}\`\`\``);
    expect(docs, 'the command the page gives, with the secret npm start prints').to.include(`DINGTALK_FORWARD_SECRET=${DEV_FORWARD_SECRET} node ${CONSUMER}\n`);
    const port = await freePort();
    const consumer: ChildProcess = spawn(process.execPath, [CONSUMER], { cwd: ROOT, env: { PATH: process.env.PATH, DINGTALK_FORWARD_SECRET: DEV_FORWARD_SECRET, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    consumer.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    try {
      await new Promise<void>((resolve, reject) => {
        consumer.stderr!.on('data', (chunk: Buffer) => (chunk.toString('utf8').includes('listening') ? resolve() : undefined));
        consumer.once('exit', (code) => reject(new Error(`the consumer exited with ${code}`)));
      });
      const url = new URL(`http://127.0.0.1:${port}/hook`);
      const records = recordsOfEverySource();
      await webhookSink({ url, key: webhookKey(DEV_FORWARD_SECRET, 'DINGTALK_FORWARD_SECRET') }).deliver(records.push);
      // A delivery signed with another secret is refused and printed nowhere.
      const stranger = webhookSink({ url, key: webhookKey(`whsec_${Buffer.from('another-secret-of-24-bytes!!').toString('base64')}`, 'DINGTALK_FORWARD_SECRET') });
      const refused = await stranger.deliver(records.stream).catch((error: Error) => error);
      expect(refused).to.be.instanceOf(Error).with.property('message', 'HTTP 400');
      for (const record of [records.recovered, records.stream, records.sync, records.push]) await webhookSink({ url, key: webhookKey(DEV_FORWARD_SECRET, 'DINGTALK_FORWARD_SECRET') }).deliver(record);
      const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      // The redelivered push is deduplicated on its webhook-id.
      expect(lines.map((line) => line.source)).to.deep.equal(['push', 'recovered', 'stream', 'sync']);
      for (const line of lines) {
        const record = records[line.source as EventRecord['source']];
        expect(line).to.deep.equal({ source: record.source, eventType: record.eventType, eventId: record.eventId ?? null, corpId: record.corpId ?? null, eventTime: record.eventTime ?? null, processInstanceId: record.processInstanceId ?? null, payload: JSON.parse(record.payload) });
      }
      expect(lines[1]).to.include({ eventType: 'bpms_instance_change', processInstanceId: 'proc-000007' });
    } finally {
      consumer.kill();
    }
  });
});
