import { expect } from 'chai';
import { inspect } from 'node:util';
import { ConfigError } from '../../core/errors';
import { createForwarder, typeFilter, type DeadLetterEntry, type ForwardLog, type Sink } from '../../core/forward';
import { forwardSinks, loadForwardSettings } from '../../core/forward-settings';
import { webhookIdOf } from '../../core/webhook';
import { webhookSink } from '../../core/webhook-sink';
import { sampleRecord } from '../../testkit/store-contract';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET, type WebhookReceiver } from '../../testkit/webhook-receiver';

const FAST_RETRY = { attempts: 3, firstDelayMs: 5, maxDelayMs: 20 };

function sinkFor(receiver: WebhookReceiver, timeoutMs?: number): Sink {
  const { webhook } = loadForwardSettings({ DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET });
  return webhookSink({ ...webhook!, ...(timeoutMs && { timeoutMs }) });
}

function setUp(receiver: WebhookReceiver, options: { timeoutMs?: number; deadLetterFails?: boolean } = {}) {
  const deadLetters: DeadLetterEntry[] = [];
  const lines: ForwardLog[] = [];
  const forwarder = createForwarder({
    sinks: [sinkFor(receiver, options.timeoutMs)],
    deadLetter: {
      put: async (entry) => {
        if (options.deadLetterFails) throw new Error('queue down');
        deadLetters.push(entry);
      },
    },
    retry: FAST_RETRY,
    log: (entry) => lines.push(entry),
  });
  return { forwarder, deadLetters, lines };
}

describe('forwarding to a Standard Webhooks receiver', function () {
  let receiver: WebhookReceiver;
  afterEach(async function () {
    await receiver?.close();
  });

  it('delivers a signed envelope that standardwebhooks verifies, its payload as JSON and its id the record identity', async function () {
    receiver = await startWebhookReceiver();
    const { forwarder, lines } = setUp(receiver);
    const record = sampleRecord(1);
    expect(await forwarder.forward(record)).to.equal('delivered');
    expect(receiver.rejected).to.deep.equal([]);
    const [delivery] = receiver.deliveries;
    expect(delivery!.id).to.equal(webhookIdOf(record));
    expect(Math.abs(delivery!.timestamp - Date.now() / 1000)).to.be.below(60);
    expect(delivery!.body).to.deep.equal({ type: record.eventType, timestamp: record.receivedAt, data: { headers: null, ...record, payload: JSON.parse(record.payload) } });
    expect(lines).to.have.length(1);
    expect(JSON.stringify(lines)).not.to.include('张三');
  });

  it('delivers a payload\'s integers beyond 2^53 exactly as stored', async function () {
    receiver = await startWebhookReceiver();
    const { forwarder } = setUp(receiver);
    const record = sampleRecord(2, { payload: '{"EventType":"bpms_instance_change","bizId":123456789012345678901,"title":"请假"}' });
    expect(await forwarder.forward(record)).to.equal('delivered');
    expect(receiver.rejected).to.deep.equal([]);
    expect(receiver.deliveries[0]!.text).to.include('"bizId": 123456789012345678901');
    expect(receiver.deliveries[0]!.body.data.payload).to.deep.include({ title: '请假' });
  });

  it('retries a receiver that fails, then recovers, under the same webhook-id', async function () {
    receiver = await startWebhookReceiver(undefined, (n) => (n < 2 ? 500 : 200));
    const { forwarder, deadLetters } = setUp(receiver);
    expect(await forwarder.forward(sampleRecord(2))).to.equal('delivered');
    expect(receiver.deliveries.map((delivery) => delivery.status)).to.deep.equal([500, 500, 200]);
    expect(new Set(receiver.deliveries.map((delivery) => delivery.id))).to.deep.equal(new Set([webhookIdOf(sampleRecord(2))]));
    expect(deadLetters).to.deep.equal([]);
  });

  it('dead-letters a record with its id and the reason once a receiver never recovers', async function () {
    receiver = await startWebhookReceiver(undefined, () => 503);
    const { forwarder, deadLetters, lines } = setUp(receiver);
    const record = sampleRecord(3);
    expect(await forwarder.forward(record)).to.equal('dead_lettered');
    expect(receiver.deliveries).to.have.length(FAST_RETRY.attempts);
    expect(deadLetters).to.have.length(1);
    expect(deadLetters[0]).to.include({ id: record.id, ownerKey: record.ownerKey, eventType: record.eventType, webhookId: webhookIdOf(record), sink: 'webhook', reason: 'HTTP 503', attempts: 3 });
    expect(lines.at(-1)).to.include({ outcome: 'dead_lettered', reason: 'HTTP 503' });
  });

  it('counts a receiver that does not answer in time as failed', async function () {
    receiver = await startWebhookReceiver(undefined, () => ({ delayMs: 400, status: 200 }));
    const { forwarder, deadLetters } = setUp(receiver, { timeoutMs: 50 });
    expect(await forwarder.forward(sampleRecord(4))).to.equal('dead_lettered');
    expect(deadLetters[0]!.reason).to.equal('no answer within 50 ms');
  });

  it('gives the rest of a batch one attempt each once the receiver has used up a record\'s retries', async function () {
    receiver = await startWebhookReceiver(undefined, () => 500);
    const { forwarder, deadLetters } = setUp(receiver);
    const result = await forwarder.forwardBatch([sampleRecord(5), sampleRecord(6), sampleRecord(7)]);
    expect(result).to.deep.equal({ outcomes: ['dead_lettered', 'dead_lettered', 'dead_lettered'], failed: [] });
    expect(receiver.deliveries).to.have.length(FAST_RETRY.attempts + 2);
    expect(deadLetters.map((entry) => entry.attempts)).to.deep.equal([3, 1, 1]);
  });

  it('reports a record whose dead letter could not be written, so the stream retries it', async function () {
    receiver = await startWebhookReceiver(undefined, (n) => (n === 0 ? 200 : 500));
    const { forwarder } = setUp(receiver, { deadLetterFails: true });
    const result = await forwarder.forwardBatch([sampleRecord(8), sampleRecord(9)]);
    expect(result).to.deep.equal({ outcomes: ['delivered', 'failed'], failed: [1] });
  });

  it('never forwards check_url or the suite checks, and only the types asked for', async function () {
    receiver = await startWebhookReceiver();
    const { forwarder } = setUp(receiver);
    for (const eventType of ['check_url', 'check_create_suite_url', 'check_update_suite_url']) {
      expect(await forwarder.forward(sampleRecord(10, { eventType }))).to.equal('skipped');
    }
    expect(receiver.deliveries).to.deep.equal([]);
    const only = typeFilter(' bpms_* , user_add_org');
    expect(['bpms_task_change', 'bpms_instance_change', 'user_add_org'].every(only)).to.equal(true);
    expect(['user_add_org2', 'org_dept_create', 'xbpms_task'].some(only)).to.equal(false);
    expect(typeFilter('')('anything')).to.equal(true);
    expect(typeFilter('a.b')('axb')).to.equal(false);
  });
});

describe('forwarding settings', function () {
  const secret = TEST_WEBHOOK_SECRET;

  it('accepts HTTPS anywhere and plain HTTP to localhost only', function () {
    expect(loadForwardSettings({ DINGTALK_FORWARD_URL: 'https://hooks.example.com/in', DINGTALK_FORWARD_SECRET: secret }).webhook!.url.href).to.equal('https://hooks.example.com/in');
    for (const url of ['http://localhost:4000/hook', 'http://127.0.0.1/hook', 'http://[::1]:8/x']) {
      expect(loadForwardSettings({ DINGTALK_FORWARD_URL: url, DINGTALK_FORWARD_SECRET: secret }).webhook).to.not.equal(undefined);
    }
    for (const url of ['http://hooks.example.com/in', 'ftp://localhost/x', 'not a url', 'https://user:pw@example.com/']) {
      expect(() => loadForwardSettings({ DINGTALK_FORWARD_URL: url, DINGTALK_FORWARD_SECRET: secret })).to.throw(ConfigError, 'DINGTALK_FORWARD_URL');
    }
  });

  it('needs a whsec_ secret with a URL, and never shows it', function () {
    expect(() => loadForwardSettings({ DINGTALK_FORWARD_URL: 'https://example.com/' })).to.throw(ConfigError, 'DINGTALK_FORWARD_SECRET');
    for (const bad of ['abc', 'whsec_', 'whsec_c2hvcnQ=', 'whsec_!!!!']) {
      expect(() => loadForwardSettings({ DINGTALK_FORWARD_URL: 'https://example.com/', DINGTALK_FORWARD_SECRET: bad })).to.throw(ConfigError, 'DINGTALK_FORWARD_SECRET');
    }
    const settings = loadForwardSettings({ DINGTALK_FORWARD_URL: 'https://example.com/', DINGTALK_FORWARD_SECRET: secret, DINGTALK_EVENT_BUS: 'bus' });
    const shown = `${inspect(settings, { depth: 9 })}${JSON.stringify(settings)}`;
    expect(shown).not.to.include(secret.slice(6, 20));
    expect(shown).not.to.include(Buffer.from(secret.slice(6), 'base64').toString('hex').slice(0, 16));
    expect(settings.eventBus).to.equal('bus');
  });

  it('forwards nothing, and is no error, with no sink set', function () {
    expect(forwardSinks(loadForwardSettings({}))).to.deep.equal([]);
  });

  it('builds the sinks the settings name, the webhook first, the event bus by the cloud\'s own sink', function () {
    const settings = loadForwardSettings({ DINGTALK_FORWARD_URL: 'https://example.com/', DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET, DINGTALK_EVENT_BUS: 'bus' });
    const bus: Sink = { name: 'eventbridge', deliver: async () => {} };
    expect(forwardSinks(settings, (name) => (name === 'bus' ? bus : undefined!)).map((sink) => sink.name)).to.deep.equal(['webhook', 'eventbridge']);
    expect(() => forwardSinks(settings)).to.throw(ConfigError, 'DINGTALK_EVENT_BUS');
  });
});
