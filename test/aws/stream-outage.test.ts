import { expect } from 'chai';
import type { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DynamoDbEventWriter } from '../../providers/aws/dynamodb-writer';
import { GENEROUS_PUT_DEADLINE_MS } from '../../testkit/dynamodb';
import { startProxiedDynamoDb, type DynamoDbProxy, type ProxiedDynamoDb } from '../../testkit/dynamodb-proxy';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { ControlledWriter, gatewayEnv, startRelay, type RunningRelay } from '../../testkit/stream-relay-harness';

const TABLE = 'dingtalk-callback-stream-events';

describe('the Stream relay over DynamoDB (dynalite behind a proxy that fails on demand)', function () {
  let db: ProxiedDynamoDb;
  let proxy: DynamoDbProxy;
  let client: ProxiedDynamoDb['client'];
  let store: DynamoDbEventStore;
  let gateway: FakeStreamGateway;
  let relay: RunningRelay | undefined;

  before(async function () {
    db = await startProxiedDynamoDb(TABLE);
    ({ store, proxy, client } = db);
  });
  after(async function () {
    await db.close();
  });
  afterEach(async function () {
    await relay?.stop().catch(() => undefined);
    relay = undefined;
    await gateway?.close();
    proxy.set('up');
  });

  for (const [what, fail, mend] of [
    ['throttling every request', () => proxy.set('throttling'), () => proxy.set('up')],
    ['refusing connections', () => proxy.unreachable(), () => proxy.restore()],
  ] as const) {
    it(`${what} mid-stream: LATER, none SUCCESS before it is readable; afterwards each event stored once`, async function () {
      gateway = new FakeStreamGateway();
      gateway.redeliverAfterMs = 300;
      const base = await gateway.start();
      // The function's writer over the failing proxy; the relay's budget ends a put DynamoDB's retries drag out.
      const writer = new ControlledWriter(new DynamoDbEventWriter({ tableName: TABLE, client, putDeadlineMs: GENEROUS_PUT_DEADLINE_MS }));
      relay = startRelay(gatewayEnv(gateway, base), writer, { timing: { ackBudgetMs: 1500, ackMarginMs: 200 } });
      await gateway.until(() => gateway.open.length === 1);
      const ids = [];
      for (let n = 0; n < 5; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: JSON.stringify({ n, what }) }));
      await gateway.until(() => gateway.acksWith('SUCCESS').length === 5);
      await fail();
      for (let n = 5; n < 15; n++) ids.push(gateway.push({ eventType: 'user_add_org', data: JSON.stringify({ n, what }) }));
      await gateway.until(() => gateway.acksWith('LATER').length >= 10, 20_000, 'ten LATER acks');
      expect(gateway.acksWith('SUCCESS')).to.have.length(5);
      await mend();
      await gateway.until(() => gateway.unacked === 0, 20_000, 'every event acked SUCCESS');
      for (const ack of gateway.acksWith('SUCCESS')) {
        const id = `${gateway.clientId}:event:user_add_org:${ack.eventId}`;
        const record = await store.get(id);
        expect(record, id).to.include({ source: 'stream', eventId: ack.eventId });
        expect(writer.storedAt.get(id), 'readable before its SUCCESS').to.be.at.most(ack.at);
      }
      const stored = (await store.list({ limit: 1000 })).records.filter((record) => record.payload.includes(what));
      expect(stored.map((record) => record.eventId).sort()).to.deep.equal(ids.sort());
    });
  }
});
