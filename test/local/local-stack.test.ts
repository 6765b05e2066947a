import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAX_BODY_BYTES } from '../../core/callback';
import { openReply, pushUrl, type Push } from '../../core/dingtalk-side';
import { parseMessage, toRecord } from '../../core/events';
import type { PushLog } from '../../core/log';
import { rowRecord } from '../../core/sync-push';
import { webhookIdOf } from '../../core/webhook';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DEV_CREDENTIALS, DEV_FORWARD_SECRET } from '../../providers/local/dev-credentials';
import { startDynamoDbServer } from '../../providers/local/dynamodb-server';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME, localDynamoDbClient, localDynamoDbEndpoint, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { createLocalStream } from '../../providers/local/local-stream';
import { pushLogLines } from '../../testkit/capture-output';
import { approvalItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { eventText, recordId } from '../../testkit/fixtures';
import { freshDingTalkEnv, hostilePushes, SecretLedger } from '../../testkit/hostile-pushes';
import { call } from '../../testkit/inspector';
import { pushTo, startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { attackLastByte, lastBlock, signedWithToken } from '../../testkit/padding-oracle';
import { startWebhookReceiver, type Delivery, type WebhookReceiver } from '../../testkit/webhook-receiver';

/** API Gateway's own payload limit (HTTP API, and serverless-offline's default): beyond it the function is never called. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The approval an earlier run stored, for the development ownerKey, and had not forwarded when it was killed. */
const EARLIER = eventText('bpms_instance_change');

/**
 * Writes an earlier run's data folder into `dataDir`: {@link EARLIER} stored through the same local
 * store and stream npm start runs, and the run killed while its forward function had not answered.
 */
async function killedEarlierRun(dataDir: string): Promise<void> {
  const killed = createLocalStream({ tableName: LOCAL_TABLE_NAME, journal: join(dataDir, 'forward-pending.jsonl'), invoke: () => new Promise(() => {}), onFailure: async () => {} });
  const earlier = await startDynamoDbServer({ port: 0, dataDir, onPut: (tableName, item) => tableName === LOCAL_TABLE_NAME && killed.insert(item) });
  const client = localDynamoDbClient(localDynamoDbEndpoint(earlier.port));
  try {
    await ensureEventTable(client, LOCAL_TABLE_NAME);
    await new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client }).put(toRecord(parseMessage(Buffer.from(EARLIER)), DEV_CREDENTIALS.DINGTALK_OWNER_KEY, new Date()));
  } finally {
    // Else a failure here leaves the server holding mocha open.
    client.destroy();
    await earlier.close();
  }
}

/** The deliveries `receiver` took of the records `ids`, in arrival order, once it has taken `count` of them. */
async function deliveriesOf(receiver: WebhookReceiver, ids: string[], count = ids.length): Promise<Delivery[]> {
  const accepted = () => receiver.deliveries.filter((delivery) => delivery.status < 300);
  const mine = () => accepted().filter((delivery) => ids.includes(delivery.body.data.id));
  while (mine().length < count) await receiver.accepted(accepted().length + 1);
  return mine();
}

// One npm start for every test here, as a user with a DingTalk app runs it: credentials of their
// own (fresh ones, which must never show in anything it prints), the app (recover on its schedule,
// the Stream relay beside the push URL) and a webhook to forward to, over the data folder of an
// earlier run that was killed. Each test pushes events of its own and reads only the records and
// deliveries of the ids it stored, or what it added to a count.
describe('npm start with DINGTALK_* credentials, an app in Stream mode and DINGTALK_FORWARD_URL, over an earlier run\'s data folder', function () {
  this.timeout(120_000);
  const ledger = new SecretLedger(freshDingTalkEnv());
  let dataDir: string;
  let stack: LocalStack;
  let store: DynamoDbEventStore;
  let dingtalk: FakeDingTalk;
  let receiver: WebhookReceiver;
  let streamGateway: FakeStreamGateway;
  /** While set, the receiver answers nothing until it settles. */
  let held: Promise<void> | undefined;
  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'local-stack-'));
    await killedEarlierRun(dataDir);
    dingtalk = await new FakeDingTalk().start();
    receiver = await startWebhookReceiver(DEV_FORWARD_SECRET, () => (held ? { until: held, status: 204 } : 204));
    // The same app in Stream mode: npm start runs the relay beside the push URL.
    streamGateway = new FakeStreamGateway();
    streamGateway.clientId = dingtalk.appKey;
    streamGateway.clientSecret = dingtalk.appSecret;
    const gatewayBase = await streamGateway.start();
    stack = await startLocalStack(dataDir, { ...ledger.env, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_BASE: dingtalk.url, DINGTALK_OPENAPI_ENDPOINT: gatewayBase, DINGTALK_FORWARD_URL: receiver.url });
    store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));
  });
  after(async function () {
    await stack?.stop('SIGKILL');
    await streamGateway?.close();
    await dingtalk?.stop();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('its app, Stream mode, recover and forwarding', function () {
    it('forwards, first, what the earlier run left unforwarded, keeps its records, uses the DINGTALK_* variables set, and stores a redelivery once', async function () {
      const earlierId = recordId(EARLIER, DEV_CREDENTIALS.DINGTALK_OWNER_KEY);
      expect(stack.output()).to.include('; first the 1 event an earlier run stored but had not forwarded when it stopped');
      const [replayed] = await deliveriesOf(receiver, [earlierId]);
      expect(replayed?.body.data.id).to.equal(earlierId);
      expect((await store.get(earlierId))?.payload).to.equal(EARLIER);
      // Pushed with the development credentials, which the DINGTALK_* set replace.
      expect((await pushTo(stack, EARLIER)).status).to.equal(401);
      // The same message for another ownerKey is another owner's event; its redelivery is not.
      expect(await pushTo(stack, EARLIER, ledger.env)).to.deep.equal({ status: 200, reply: 'success' });
      expect(await pushTo(stack, EARLIER, ledger.env)).to.deep.equal({ status: 200, reply: 'success' });
      expect((await store.get(recordId(EARLIER, ledger.ownerKey)))?.payload).to.equal(EARLIER);
      const kept = (await store.list({ eventType: 'bpms_instance_change', limit: 1000 })).records.filter((record) => record.payload === EARLIER);
      expect(kept.map((record) => record.id).sort()).to.deep.equal([earlierId, recordId(EARLIER, ledger.ownerKey)].sort());
    });

    it('receives over Stream mode: an event stored, acked after, and forwarded as a pushed one is', async function () {
      const id = `${dingtalk.appKey}:event:user_leave_org:stream-evt-1`;
      expect(stack.output()).to.include(`Stream: receiving the events of ${dingtalk.appKey} over DingTalk Stream mode into this store`);
      // The scheduled stream function never runs under npm start: the relay is the one connection.
      expect(stack.output()).to.include('Scheduling [stream] cron: disabled');
      await streamGateway.until(() => streamGateway.open.length === 1, 30_000, 'npm start to open a Stream connection');
      streamGateway.push({ eventType: 'user_leave_org', eventId: 'stream-evt-1', data: JSON.stringify({ userId: ['u9'] }) });
      await streamGateway.until(() => streamGateway.acksWith('SUCCESS').length === 1, 10_000, 'the ack');
      const [streamed] = await deliveriesOf(receiver, [id]);
      expect(streamed?.body.data).to.include({ id, source: 'stream' });
      expect(stack.output()).to.include(`Stream: user_leave_org  ${id}  stored`);
    });

    it('runs recover on its schedule: a run invoked now pulls DingTalk\'s failed list from the DINGTALK_API_BASE set', async function () {
      expect(stack.output()).to.include("Recover: on its schedule, DingTalk's failed list is pulled into this store");
      expect(stack.output()).to.include('Scheduling [recover] cron: [0 */1 * * *]');
      dingtalk.failed.push(approvalItem(1, dingtalk.corpId));
      const run = await fetch(`http://localhost:${stack.lambdaPort}/2015-03-31/functions/dingtalk-callback-dev-recover/invocations`, { method: 'POST', body: '{}' });
      const answer = await run.text();
      expect([run.status, run.headers.get('x-amz-function-error')], answer).to.deep.equal([200, null]);
      expect(dingtalk.failed).to.deep.equal([]);
      const recovered = (await store.list({ limit: 1000 })).records.filter((record) => record.source === 'recovered');
      expect(recovered.map((record) => record.processInstanceId)).to.deep.equal(['proc-000001']);
    });

    it('delivers each stored event, signed with the development secret, and answers pushes without waiting for the receiver', async function () {
      expect(stack.output()).to.include(`Forwarding each new event to ${receiver.url}`);
      expect(stack.output()).to.include(`DINGTALK_FORWARD_SECRET=${DEV_FORWARD_SECRET}`);
  
      const messages = [eventText('user_add_org'), eventText('bpms_instance_change', { createTime: 1700000004000 }), eventText('check_url'), eventText('check_create_suite_url', { Random: 'abc' })];
      const ids = messages.slice(0, 2).map((message) => recordId(message, ledger.ownerKey));
      // The receiver takes as long as the test likes: it answers only once every push has been answered.
      let release!: () => void;
      held = new Promise<void>((resolve) => (release = resolve));
      try {
        for (const message of messages) expect((await pushTo(stack, message, ledger.env)).status).to.equal(200);
      } finally {
        held = undefined;
        release();
      }
      const deliveries = await deliveriesOf(receiver, ids);
      expect(receiver.rejected).to.deep.equal([]);
      const expected = await Promise.all(ids.map(async (id) => (await store.get(id))!));
      expect(deliveries.map((delivery) => delivery.id).sort()).to.deep.equal(expected.map(webhookIdOf).sort());
      expect(deliveries.map((delivery) => delivery.body.data.payload)).to.deep.include(JSON.parse(messages[1]!));

      // Handshakes are never forwarded: the stream is in order, so once an event pushed after them
      // arrives, they would have arrived before it.
      const later = eventText('org_dept_create');
      expect((await pushTo(stack, later, ledger.env)).status).to.equal(200);
      ids.push(recordId(later, ledger.ownerKey));
      expect((await deliveriesOf(receiver, ids)).map((delivery) => delivery.body.type)).to.deep.equal(['user_add_org', 'bpms_instance_change', 'org_dept_create']);
      expect(receiver.deliveries.map((delivery) => delivery.body.type).filter((type) => type.startsWith('check_'))).to.deep.equal([]);
      expect(await readFile(join(dataDir, 'forward-dead-letters.jsonl'), 'utf8').catch(() => '')).to.equal('');
      expect(stack.output()).not.to.include('张三');

      // A SyncHTTP push: one webhook per row, its webhook-id the row's record's; the ISV state kept
      // beside them (the ticket, the authorisations) is never delivered.
      const rows = [syncRow('suite_ticket'), syncRow('org_suite_auth', { corpId: 'dingforwardcorp01' }), syncRow('org_suite_auth', { corpId: 'dingforwardcorp02' })];
      const rowRecords = rows.map((row) => rowRecord(JSON.stringify(row), ledger.ownerKey, new Date()));
      const last = eventText('org_dept_create', { TimeStamp: '1700000999000' });
      expect((await pushTo(stack, syncPush(rows), ledger.env)).status).to.equal(200);
      expect((await pushTo(stack, last, ledger.env)).status).to.equal(200);
      ids.push(...rowRecords.map((record) => record.id), recordId(last, ledger.ownerKey));
      const all = await deliveriesOf(receiver, ids);
      // The rows of one push are stored side by side: the stream has them in the order their puts ended.
      expect(all.slice(3, 6).map((delivery) => delivery.id).sort()).to.deep.equal(rowRecords.map(webhookIdOf).sort());
      const types = all.map((delivery) => delivery.body.type);
      expect([...types.slice(0, 3), ...types.slice(3, 6).sort(), types[6]]).to.deep.equal(['user_add_org', 'bpms_instance_change', 'org_dept_create', 'org_suite_auth', 'org_suite_auth', 'suite_ticket', 'org_dept_create']);
      expect((await store.isvStates()).map((state) => state.kind).sort()).to.deep.equal(['authorisation', 'authorisation', 'suite_ticket']);

      // The inspector saw each batch handed to the forward function: the first three were handled before the rows' batch was taken.
      for (const id of ids.slice(0, 2)) {
        const { delivery } = (await call(`${stack.inspectorUrl}api/events/${encodeURIComponent(id)}`)).json();
        expect(delivery).to.deep.include({ state: 'delivered', by: 'stream' });
      }
    });
  });

  describe('over HTTP: hostile input, duplicate storms and large pushes', function () {
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
        const stored = (await store.list({ limit: 1000 })).records.length;
        const { status, body, allow } = await logged([{ status: hostile.status, outcome: 'rejected', error: hostile.error }], () => send(hostile.method, hostile));
        expect(status).to.equal(hostile.status);
        expect(allow).to.equal(status === 405 ? 'POST' : null);
        expect(body.length, 'a small body').to.be.below(200);
        const error = JSON.parse(body) as Record<string, unknown>;
        expect(Object.keys(error).sort()).to.deep.equal(['error', 'message']);
        expect(error.error).to.equal(hostile.error);
        expect(ledger.leaksIn(body)).to.deep.equal([]);
        expect((await store.list({ limit: 1000 })).records).to.have.length(stored);
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
      expect((await store.get(recordId(message, ledger.ownerKey)))?.payload).to.equal(message);
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
      expect((await store.get(recordId(message, ledger.ownerKey)))?.payload).to.equal(message);
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

  // Last: it ends the stack the others use.
  describe('stopping', function () {
    it('stops on SIGTERM, closing its Stream connection and its store, having printed no AES key or app secret', async function () {
      await streamGateway.until(() => streamGateway.open.length === 1, 30_000, 'npm start to open a Stream connection');
      await stack.stop('SIGTERM');
      expect(stack.output()).to.include('Local DynamoDB stopped');
      await streamGateway.until(() => streamGateway.open.length === 0, 5000, 'the Stream connection closed');
      expect(ledger.leaksIn(stack.output())).to.deep.equal([]);
      for (const secret of [DEV_CREDENTIALS.DINGTALK_AES_KEY, dingtalk.appSecret]) expect(stack.output()).not.to.include(secret);
    });
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
