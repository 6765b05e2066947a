import { expect } from 'chai';
import { LEASE_MARGIN_MS } from '../../core/stream-lease';
import { createHandler } from '../../handlers/aws/stream';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { ensureEventTable } from '../../providers/local/events-table';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { FakeSsm } from '../../testkit/fake-ssm';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { itHoldsLeases } from '../../testkit/stream-function';

const PREFIX = '/dingtalk-callback/test';

describe('stream on AWS: the Lambda handler against the fake Stream gateway, into DynamoDB (dynalite), its secrets from SSM (fake)', function () {
  let dynamo: TestDynamoDb;
  let ssm: FakeSsm;
  let gateway: FakeStreamGateway;
  let base: string;
  let store: DynamoDbEventStore;
  const env = () => ({ DINGTALK_SSM_PREFIX: PREFIX, EVENTS_TABLE: 'events', DINGTALK_OPENAPI_ENDPOINT: base });
  const lambda = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

  beforeEach(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, 'events');
    ssm = await new FakeSsm().start();
    gateway = new FakeStreamGateway();
    base = await gateway.start();
    ssm.parameters.set(`${PREFIX}/app-key`, gateway.clientId);
    ssm.parameters.set(`${PREFIX}/app-secret`, gateway.clientSecret);
    ssm.parameters.set(`${PREFIX}/owner-key`, gateway.corpId);
    store = new DynamoDbEventStore({ tableName: 'events', client: dynamo.client });
  });
  afterEach(async function () {
    await gateway.close();
    await ssm.stop();
    dynamo.client.destroy();
    await dynamo.server.close();
  });

  itHoldsLeases(() => {
    const handler = createHandler({ env: env(), dynamodb: dynamo.client, ssm: ssm.jsonClient(), log: () => {} });
    return { gateway, store, invoke: (leaseMs) => handler({}, lambda(leaseMs + LEASE_MARGIN_MS)) };
  });

  it('names every bad setting at once, and opens no connection', async function () {
    ssm.parameters.delete(`${PREFIX}/app-secret`);
    const handler = createHandler({ env: { DINGTALK_SSM_PREFIX: PREFIX, DINGTALK_STREAM_LEASE_SECONDS: '5' }, dynamodb: dynamo.client, ssm: ssm.jsonClient(), log: () => {} });
    const failure = (await handler({}, lambda(60_000)).catch((error: unknown) => error)) as Error;
    expect(failure.message).to.contain(`${PREFIX}/app-secret`);
    expect(failure.message).to.contain('EVENTS_TABLE: is not set');
    expect(failure.message).to.contain('DINGTALK_STREAM_LEASE_SECONDS: must be a whole number of seconds, 10 or more');
    expect(gateway.opens).to.equal(0);
  });

  it('fails in one line naming the secret when DingTalk refuses it, never printing it', async function () {
    ssm.parameters.set(`${PREFIX}/app-secret`, 'not-the-secret');
    const lines: object[] = [];
    const handler = createHandler({ env: env(), dynamodb: dynamo.client, ssm: ssm.jsonClient(), log: (entry) => lines.push(entry) });
    const failure = (await handler({}, lambda(60_000)).catch((error: unknown) => error)) as Error;
    expect(failure.message).to.match(/^DINGTALK_APP_SECRET: DingTalk refused the credentials/);
    expect(gateway.opens).to.equal(1);
    expect(JSON.stringify(lines) + failure.message).not.to.contain('not-the-secret');
  });
});
