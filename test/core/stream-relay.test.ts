import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import { MemoryEventStore } from '../../core/memory-store';
import { loadStreamSettings, streamEnabled } from '../../core/stream-settings';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { recordId } from '../../testkit/fixtures';
import { storedByEventId } from '../../testkit/store-contract';
import { ControlledWriter, gatewayEnv, startRelay, type RunningRelay } from '../../testkit/stream-relay-harness';

describe('core/stream-relay against a fake DingTalk Stream gateway, over a real WebSocket', function () {
  let gateway: FakeStreamGateway;
  let base: string;
  let store: MemoryEventStore;
  let writer: ControlledWriter;
  let relay: RunningRelay | undefined;
  const env = () => gatewayEnv(gateway, base);
  const data = (fields: Record<string, unknown>) => JSON.stringify(fields);

  beforeEach(async function () {
    gateway = new FakeStreamGateway();
    gateway.redeliverAfterMs = 150;
    gateway.disconnectCloseMs = 200;
    base = await gateway.start();
    store = new MemoryEventStore();
    writer = new ControlledWriter(store);
  });
  afterEach(async function () {
    await relay?.stop().catch(() => undefined);
    relay = undefined;
    await gateway.close();
  });

  const connected = (count = 1) => gateway.until(() => gateway.open.length >= count, 5000, `${count} open connection(s)`);

  it('stores an EVENT as a stream record, then acks SUCCESS: the id a push of the same event gets, the headers kept', async function () {
    relay = startRelay(env(), writer);
    await connected();
    const payload = data({ processInstanceId: 'proc-1', title: '请假', result: 'agree' });
    const eventId = gateway.push({ eventType: 'bpms_instance_change', eventId: 'evt-1', bornTime: 1_700_000_000_123, data: payload });
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 1);
    const record = await store.get(recordId(JSON.stringify({ EventType: 'bpms_instance_change', eventId }), gateway.clientId));
    expect(record).to.include({ source: 'stream', eventType: 'bpms_instance_change', eventId: 'evt-1', ownerKey: gateway.clientId, corpId: gateway.corpId, eventTime: 1_700_000_000_123, processInstanceId: 'proc-1', payload });
    expect(record!.headers).to.include({ eventId: 'evt-1', eventType: 'bpms_instance_change', eventCorpId: gateway.corpId, appId: gateway.appId, topic: '*' });
    expect(writer.storedAt.get(record!.id)).to.be.at.most(gateway.acksWith('SUCCESS')[0]!.at);
    expect(relay.frames[0]).to.include({ outcome: 'created', id: record!.id });
  });

  it('opens with the credentials and Accept: application/json, subscribing to every event', async function () {
    relay = startRelay(env(), writer);
    await connected();
    expect(gateway.openRequests[0]).to.include({ clientId: gateway.clientId, clientSecret: gateway.clientSecret });
    expect(gateway.openRequests[0]!.subscriptions).to.deep.include({ type: 'EVENT', topic: '*' });
  });

  it('acks a re-push of a stored event SUCCESS as a duplicate: one record', async function () {
    relay = startRelay(env(), writer);
    await connected();
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-dup', data: data({ userId: ['u1'] }) });
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-dup', data: data({ userId: ['u1'] }) });
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 2);
    expect(relay.frames.map((frame) => frame.outcome).sort()).to.deep.equal(['created', 'duplicate']);
    expect((await store.list()).records).to.have.length(1);
  });

  it('answers a ping with its own headers and data, stores and answers a CALLBACK', async function () {
    relay = startRelay(env(), writer);
    await connected();
    const [connection] = gateway.open;
    gateway.ping(connection!, 'opaque-1');
    const robot = data({ msgId: 'msg-1', chatbotCorpId: gateway.corpId, createAt: 1_700_000_000_999, text: { content: 'hi' } });
    gateway.pushCallback(robot);
    await gateway.until(() => gateway.acks.length === 2);
    const ping = gateway.acksWith('ping')[0]!;
    expect(JSON.parse(ping.data)).to.deep.equal({ opaque: 'opaque-1' });
    expect(gateway.acksWith('response')).to.have.length(1);
    const [record] = (await store.list()).records;
    expect(record).to.include({ source: 'stream', eventType: '/v1.0/im/bot/messages/get', payload: robot, corpId: gateway.corpId, eventTime: 1_700_000_000_999 });
  });

  it('logs bad frames without their data and never crashes: non-JSON, no messageId, unknown type, data not JSON text', async function () {
    relay = startRelay(env(), writer);
    await connected();
    const [connection] = gateway.open;
    const secret = 'SECRET-PAYLOAD-7d1f';
    gateway.sendRaw(connection!, `not json ${secret}`);
    gateway.sendRaw(connection!, JSON.stringify({ type: 'EVENT', headers: { eventType: 'x' }, data: secret }));
    gateway.sendRaw(connection!, JSON.stringify({ type: 'WHAT', headers: { messageId: 'm-odd' }, data: secret }));
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-bad', data: `{${secret}` });
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-array', data: '[1,2]' });
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-good', data: data({ ok: true }) });
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 3);
    expect(await storedByEventId(store, 'evt-good')).to.have.property('source', 'stream');
    expect((await store.list()).records).to.have.length(1);
    expect(relay.logs.filter((line) => (line as { stream: string }).stream === 'bad_frame')).to.have.length(5);
    expect(JSON.stringify(relay.logs)).not.to.include(secret);
    expect(gateway.deliveries('evt-bad')).to.equal(1);
  });

  it('acks LATER while the store fails, none SUCCESS before it is readable; afterwards every event is stored once', async function () {
    relay = startRelay(env(), writer);
    await connected();
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n }) }));
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 5);
    writer.failing = true;
    for (let n = 5; n < 15; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n }) }));
    await gateway.until(() => gateway.acksWith('LATER').length >= 10);
    expect(gateway.acksWith('SUCCESS')).to.have.length(5);
    writer.failing = false;
    await gateway.until(() => gateway.unacked === 0, 10_000, 'every event acked');
    const records = (await store.list({ limit: 100 })).records;
    expect(records.map((record) => record.eventId).sort()).to.deep.equal([...ids].sort());
    for (const ack of gateway.acksWith('SUCCESS')) {
      const record = records.find((each) => each.eventId === ack.eventId)!;
      expect(writer.storedAt.get(record.id), 'readable before its SUCCESS').to.be.at.most(ack.at);
    }
  });

  it('acks LATER a put that would outlast the ack budget', async function () {
    relay = startRelay(env(), writer, { timing: { ackBudgetMs: 200, ackMarginMs: 50 } });
    await connected();
    writer.delayMs = 400;
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-slow', data: data({}) });
    await gateway.until(() => gateway.acksWith('LATER').length === 1);
    expect(gateway.acksWith('LATER')[0]!.at - gateway.connections[0]!.openedAt).to.be.greaterThan(0);
    writer.delayMs = 0;
    await gateway.until(() => gateway.unacked === 0);
    expect((await store.list()).records).to.have.length(1);
  });

  it('on disconnect opens a new connection before the old one closes; nothing lost, nothing twice', async function () {
    relay = startRelay(env(), writer);
    await connected();
    const [old] = gateway.open;
    const ids = [gateway.push({ eventType: 'user_add_org', data: data({ n: 1 }) })];
    gateway.disconnect(old!);
    await gateway.until(() => gateway.connections.length === 2);
    expect(old!.closedAt, 'the old socket is still open when the new one opens').to.satisfy((closedAt: number | undefined) => closedAt === undefined || closedAt >= gateway.connections[1]!.openedAt);
    for (let n = 2; n <= 10; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n }) }));
    await gateway.until(() => gateway.unacked === 0 && old!.closedAt !== undefined);
    expect((await store.list()).records.map((record) => record.eventId).sort()).to.deep.equal(ids.sort());
    expect(gateway.opens).to.equal(2);
  });

  it('reconnects after a dropped socket, and stores what was pushed meanwhile once', async function () {
    relay = startRelay(env(), writer);
    await connected();
    gateway.drop(gateway.open[0]!);
    const ids = [];
    for (let n = 0; n < 5; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n }) }));
    await gateway.until(() => gateway.unacked === 0);
    expect((await store.list()).records.map((record) => record.eventId).sort()).to.deep.equal(ids.sort());
    expect(gateway.connections).to.have.length(2);
    expect(relay.statuses.map((status) => status.state)).to.include('reconnecting');
  });

  it('replaces a socket gone silent (no frame, no pong)', async function () {
    relay = startRelay(env(), writer);
    await connected();
    gateway.silence(gateway.open[0]!);
    await gateway.until(() => gateway.connections.length === 2 && gateway.connections[0]!.closedAt !== undefined, 5000, 'the silent socket replaced');
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-after', data: data({}) });
    await gateway.until(() => gateway.unacked === 0);
    expect(await storedByEventId(store, 'evt-after')).to.have.property('source', 'stream');
    expect(relay.statuses.map((status) => status.state)).to.include('replacing');
  });

  it('backs off, bounded, while the gateway refuses tickets, keeps the old socket meanwhile, and loses nothing', async function () {
    relay = startRelay(env(), writer, { timing: { backoffMs: 50, backoffCapMs: 200 } });
    await connected();
    gateway.disconnectCloseMs = 300;
    gateway.refuseFor(1000);
    gateway.disconnect(gateway.open[0]!);
    const ids = [];
    for (let n = 0; n < 10; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n }) }));
    await gateway.until(() => gateway.connections.length === 2 && gateway.unacked === 0, 10_000, 'a new connection and every event acked');
    // 1 s of refusals with waits of at least 25, 50, 100, then 100..200 ms: at most ~12 attempts, never a tight loop.
    expect(gateway.opens).to.be.within(2, 14);
    expect((await store.list()).records.map((record) => record.eventId).sort()).to.deep.equal(ids.sort());
  });

  it('backs off, bounded, when every socket is cut as it opens, and loses nothing once they hold', async function () {
    relay = startRelay(env(), writer, { timing: { backoffMs: 50, backoffCapMs: 200 } });
    await connected();
    gateway.dropOnConnect = true;
    const ids = [gateway.push({ eventType: 'user_add_org', data: data({ n: 0 }) })];
    gateway.drop(gateway.open[0]!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // 1 s of sockets cut at once, with waits of at least 25, 50, 100, then 100..200 ms: a dozen at most, never a storm.
    expect(gateway.connections.length).to.be.within(2, 14);
    gateway.dropOnConnect = false;
    ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n: 1 }) }));
    await gateway.until(() => gateway.unacked === 0, 10_000, 'every event acked');
    expect((await store.list()).records.map((record) => record.eventId).sort()).to.deep.equal(ids.sort());
  });

  it('shares the events with another relay of the same app (DingTalk picks a connection per push): each stored once', async function () {
    relay = startRelay(env(), writer);
    const other = startRelay(env(), writer);
    try {
      await connected(2);
      const ids = [];
      for (let n = 0; n < 40; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: data({ n }) }));
      await gateway.until(() => gateway.unacked === 0);
      expect((await store.list({ limit: 100 })).records.map((record) => record.eventId).sort()).to.deep.equal(ids.sort());
      const [mine, theirs] = await Promise.all([relay.stop(), other.stop()]);
      expect(mine.created + theirs.created).to.equal(40);
      expect(mine.created, 'each relay took some').to.be.above(0);
      expect(theirs.created, 'each relay took some').to.be.above(0);
    } finally {
      await other.stop();
    }
  });

  it('fails once, naming the setting and never the secret, when DingTalk refuses the secret', async function () {
    const wrong = { ...env(), DINGTALK_APP_SECRET: 'wrong-secret-5f2a' };
    relay = startRelay(wrong, writer);
    const failure = await relay.done.catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(ConfigError).with.property('variable', 'DINGTALK_APP_SECRET');
    expect((failure as Error).message).to.match(/HTTP 401/).and.not.include('wrong-secret-5f2a');
    expect(JSON.stringify(relay.logs)).not.to.include('wrong-secret-5f2a');
    expect(gateway.opens).to.equal(1);
  });

  it('at its deadline stops taking frames, acks what it holds, and closes', async function () {
    writer.delayMs = 300;
    gateway.redeliverAfterMs = 5000;
    relay = startRelay(env(), writer, { deadline: Date.now() + 400, timing: { ackBudgetMs: 3000 } });
    await connected();
    gateway.push({ eventType: 'user_add_org', eventId: 'evt-held', data: data({}) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const summary = await relay.done;
    expect(summary).to.include({ created: 1 });
    expect(gateway.acksWith('SUCCESS').map((ack) => ack.eventId)).to.deep.equal(['evt-held']);
    await gateway.until(() => gateway.open.length === 0);
  });

  it('stores a burst of 1,000 events over one connection, each once', async function () {
    this.timeout(20_000);
    relay = startRelay(env(), writer);
    await connected();
    const connection = gateway.open[0]!;
    gateway.redeliverAfterMs = 10_000;
    for (let n = 0; n < 1000; n++) gateway.push({ eventType: 'user_add_org', eventId: `burst-${n}`, data: data({ n }) }, connection);
    await gateway.until(() => gateway.unacked === 0, 15_000, '1,000 acks');
    const ids = new Set<string>();
    for (let cursor: string | undefined, page; (page = await store.list({ limit: 1000, cursor })); cursor = page.cursor) {
      for (const record of page.records) ids.add(record.eventId!);
      if (!page.cursor) break;
    }
    expect(ids.size).to.equal(1000);
    expect(gateway.acksWith('SUCCESS')).to.have.length(1000);
  });
});

describe('core/stream-settings', function () {
  it('is on with an app key and secret unless DINGTALK_STREAM_ENABLED is false, and off without them', function () {
    expect(streamEnabled({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' })).to.equal(true);
    expect(streamEnabled({ DINGTALK_SUITE_KEY: 'k', DINGTALK_SUITE_SECRET: 's' })).to.equal(true);
    expect(streamEnabled({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', DINGTALK_STREAM_ENABLED: 'false' })).to.equal(false);
    expect(streamEnabled({ DINGTALK_APP_KEY: 'k' })).to.equal(false);
  });

  it('names every bad setting at once and redacts the secret', function () {
    const failure = (() => {
      try {
        return loadStreamSettings({ DINGTALK_OPENAPI_ENDPOINT: 'http://api.example.com', DINGTALK_APP_KEY: 'k' });
      } catch (error) {
        return error;
      }
    })();
    expect(failure).to.be.instanceOf(ConfigError);
    expect((failure as ConfigError).problems.map((problem) => problem.variable)).to.deep.equal(['DINGTALK_OPENAPI_ENDPOINT', 'DINGTALK_APP_SECRET']);
    const settings = loadStreamSettings({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 'hunter2' });
    expect(settings.endpoint).to.equal('https://api.dingtalk.com');
    expect(JSON.stringify(settings)).not.to.include('hunter2');
  });

  it('files an event under the ownerKey the same app pushes and recovers under', function () {
    expect(loadStreamSettings({ DINGTALK_APP_KEY: 'app', DINGTALK_APP_SECRET: 's' }).ownerKeyFor('corp')).to.equal('app');
    expect(loadStreamSettings({ DINGTALK_APP_KEY: 'app', DINGTALK_APP_SECRET: 's', DINGTALK_OWNER_KEY: 'corp' }).ownerKeyFor('corp')).to.equal('corp');
    expect(loadStreamSettings({ DINGTALK_SUITE_KEY: 'suite', DINGTALK_SUITE_SECRET: 's' }).ownerKeyFor('corp')).to.equal('suite');
  });
});
