import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAX_BODY_BYTES } from '../../core/callback';
import type { PushLog } from '../../core/log';
import { openReply, pushUrl, type Push } from '../../core/dingtalk-side';
import { localDynamoDbEndpoint, openLocalEventStore } from '../../providers/local/local-dynamodb';
import type { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { pushLogLines } from '../../testkit/capture-output';
import { freshDingTalkEnv, hostilePushes, SecretLedger } from '../../testkit/hostile-pushes';
import { startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { attackLastByte, lastBlock, signedWithToken } from '../../testkit/padding-oracle';

/** API Gateway's own payload limit (HTTP API, and serverless-offline's default): beyond it the function is never called. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

describe('npm start over HTTP: hostile input, duplicate storms and large pushes', function () {
  this.timeout(120_000);
  const ledger = new SecretLedger(freshDingTalkEnv());
  let dataDir: string;
  let stack: LocalStack;
  let store: DynamoDbEventStore;

  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'hostile-stack-'));
    stack = await startLocalStack(dataDir, ledger.env);
    store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));
  });
  after(async function () {
    await stack?.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  async function send(method: string, push: Partial<Push> & { query: Record<string, string> }): Promise<{ status: number; body: string; allow: string | null }> {
    const body = method === 'GET' || method === 'HEAD' ? undefined : push.body;
    const response = await fetch(pushUrl(stack.pushUrl, { query: push.query, body: '' }), { method, body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: await response.text(), allow: response.headers.get('allow') };
  }

  /** Pushes `message` as DingTalk does, answering the status and the decrypted reply. */
  async function deliver(message: string): Promise<{ status: number; reply: string }> {
    const { status, body } = await send('POST', ledger.seal(message));
    return { status, reply: status === 200 ? openReply(ledger.settings, body, ledger.ownerKey) : body };
  }

  /**
   * Runs `request`, then waits for the per-push lines it made (they trail the HTTP answers) and
   * checks them against `expected`, one entry per request that reached the function.
   */
  async function logged<T>(expected: Array<Partial<PushLog>>, request: () => Promise<T>): Promise<T> {
    const before = pushLogLines(stack.output()).length;
    const result = await request();
    const lines = (await pushLinesOnceWritten(stack, before + expected.length)).slice(before);
    const summary = (entry: Partial<PushLog>) => [entry.status, entry.outcome, entry.error ?? entry.eventType].join(' ');
    expect(lines.map(summary).sort()).to.deep.equal(expected.map(summary).sort());
    for (const line of lines) {
      expect(line.requestId).to.be.a('string');
      expect(line.latencyMs).to.be.a('number');
      if (line.status === 200) expect(line.id).to.match(/^[^:]+:(sha256:[0-9a-f]{64}|event:.+)$/);
    }
    return result;
  }

  // Each test stands alone: whatever ran before it on this stack, it checks only what it caused.
  for (const hostile of hostilePushes(ledger)) {
    it(`answers ${hostile.status} ${hostile.error} to ${hostile.what}, with a small JSON error, logged, storing nothing`, async function () {
      const stored = (await store.list()).records.length;
      const { status, body, allow } = await logged([{ status: hostile.status, outcome: 'rejected', error: hostile.error }], () => send(hostile.method, hostile));
      expect(status).to.equal(hostile.status);
      expect(allow).to.equal(status === 405 ? 'POST' : null);
      expect(body.length, 'a small body').to.be.below(200);
      const error = JSON.parse(body) as Record<string, unknown>;
      expect(Object.keys(error).sort()).to.deep.equal(['error', 'message']);
      expect(error.error).to.equal(hostile.error);
      expect(ledger.leaksIn(body)).to.deep.equal([]);
      expect((await store.list()).records).to.have.length(stored);
    });
  }

  it('answers 405 to a HEAD, with no body', async function () {
    const { status, body, allow } = await logged([{ status: 405, outcome: 'rejected', error: 'method_not_allowed' }], () => send('HEAD', ledger.seal(ledger.message('user_add_org'))));
    expect([status, body, allow]).to.deep.equal([405, '', 'POST']);
  });

  it(`answers 413 from the gateway itself to a body over its ${GATEWAY_MAX_BODY_BYTES} bytes, before the function`, async function () {
    const { status, body } = await send('POST', { query: ledger.seal(ledger.message('user_add_org')).query, body: 'x'.repeat(GATEWAY_MAX_BODY_BYTES + 1) });
    expect(status).to.equal(413);
    expect(JSON.parse(body)).to.include({ error: 'Request Entity Too Large' });
  });

  it('serves a valid push and stores it verbatim', async function () {
    const message = ledger.message('user_add_org', { TimeStamp: '1700000000001' });
    expect(await logged([{ status: 200, outcome: 'created', eventType: 'user_add_org' }], () => deliver(message))).to.deep.equal({ status: 200, reply: 'success' });
    const [record] = (await store.list({ eventType: 'user_add_org' })).records;
    expect(record?.payload).to.equal(message);
  });

  it('stores an attendance push of 4,000 records, over 400 KB decrypted, and reads it back exactly', async function () {
    const DataList = Array.from({ length: 4000 }, (_, i) => ({
      bizId: `1005-${i}`, userId: `user${i % 500}`, checkTime: 1_700_000_000_000 + i * 1000, locationResult: 'Normal', address: `杭州市余杭区文一西路${969 + (i % 50)}号 🏢`,
    }));
    const message = ledger.message('attendance_check_record', { DataList });
    expect(Buffer.byteLength(message), 'over a DynamoDB item').to.be.above(400 * 1024);
    const push = ledger.seal(message);
    expect(Buffer.byteLength(push.body), 'under the body limit').to.be.below(MAX_BODY_BYTES);
    const { status, body } = await logged([{ status: 200, outcome: 'created', eventType: 'attendance_check_record' }], () => send('POST', push));
    expect(status).to.equal(200);
    expect(openReply(ledger.settings, body, ledger.ownerKey)).to.equal('success');
    const [record] = (await store.list({ eventType: 'attendance_check_record' })).records;
    expect(record?.payload).to.equal(message);
  });

  // A storm of 50 is left to the handler tests: here every push also goes through serverless-offline
  // and dynalite on the same shared CPU.
  it('answers 8 concurrent deliveries of one event, each a fresh ciphertext, with success, and keeps one record', async function () {
    const message = ledger.message('bpms_instance_change', { processInstanceId: 'storm' });
    const expected: Array<Partial<PushLog>> = [{ status: 200, outcome: 'created', eventType: 'bpms_instance_change' }];
    for (let n = 1; n < 8; n++) expected.push({ status: 200, outcome: 'duplicate', eventType: 'bpms_instance_change' });
    const answers = await logged(expected, () => Promise.all(Array.from({ length: 8 }, () => deliver(message))));
    expect(answers).to.deep.equal(Array.from({ length: 8 }, () => ({ status: 200, reply: 'success' })));
    const records = (await store.list({ processInstanceId: 'storm' })).records;
    expect(records.map((record) => record.payload)).to.deep.equal([message]);
  });

  it('gives a padding-oracle attack, knowing the token but not the AES key, one and the same answer to each of its requests', async function () {
    const before = pushLogLines(stack.output()).length;
    const attack = await attackLastByte(async (ciphertext) => {
      const push = signedWithToken(ledger.settings.token, ciphertext);
      const response = await fetch(pushUrl(stack.pushUrl, push), { method: 'POST', headers: { 'content-type': 'application/json' }, body: push.body });
      return JSON.stringify([response.status, [...response.headers].filter(([name]) => name !== 'date' && name !== 'x-amzn-requestid' && name !== 'x-amz-apigw-id'), await response.text()]);
    }, lastBlock(ledger.seal(ledger.message('user_add_org'))));
    expect(attack.requests).to.equal(256);
    expect(attack.observations.size, 'distinct answers').to.equal(1);
    const [status, , body] = JSON.parse([...attack.observations.keys()][0]!) as [number, unknown, string];
    expect([status, body]).to.deep.equal([400, '{"error":"undecryptable","message":"encrypt does not decrypt to a DingTalk message for this function"}']);
    expect(attack.intermediate).to.equal(undefined);
    // The faults differed (a valid pad among the 256 makes a bad length): only the log lines tell.
    const reasons = (await pushLinesOnceWritten(stack, before + 256)).slice(before).map((line) => line.reason);
    expect(new Set(reasons)).to.deep.equal(new Set(['ciphertext does not decrypt to valid padding (wrong AES key or tampered ciphertext)', 'plaintext message length exceeds the plaintext']));
  });

  it('printed no secret, ciphertext or payload, in all it printed so far', async function () {
    await logged([{ status: 200, outcome: 'created', eventType: 'chat_add_member' }], () => deliver(ledger.message('chat_add_member')));
    expect(ledger.leaksIn(`a line quoting ${ledger.canary}`), 'the search itself').to.deep.equal(['the canary']);
    expect(ledger.leaksIn(stack.output())).to.deep.equal([]);
  });
});

/** The stack's per-push lines, once `count` of them have come through its pipes (they trail the HTTP answers). */
async function pushLinesOnceWritten(stack: LocalStack, count: number): Promise<PushLog[]> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const lines = pushLogLines(stack.output());
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return pushLogLines(stack.output());
}
