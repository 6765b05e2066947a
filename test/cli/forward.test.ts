import { expect } from 'chai';
import type { DeadLetterEntry } from '../../core/forward';
import { webhookIdOf } from '../../core/webhook';
import { createHandler } from '../../handlers/aws/forward';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { AwsJsonClient, SQS } from '../../providers/aws/aws-json-client';
import { sqsDeadLetter } from '../../providers/aws/sqs-dead-letter';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME } from '../../providers/local/local-dynamodb';
import { startAwsJsonEndpoint, type AwsJsonEndpoint } from '../../testkit/aws-json-endpoint';
import { CLEAN_ENV, runCli } from '../../testkit/cli';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { sampleRecord } from '../../testkit/store-contract';
import { dynamoDbStreamEvent } from '../../testkit/stream-events';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET, type WebhookReceiver } from '../../testkit/webhook-receiver';

describe('dingtalk-callback forward: a receiver that never recovers, dead-lettered, then replayed', function () {
  this.timeout(60_000);
  let dynamo: TestDynamoDb;
  let sqs: AwsJsonEndpoint;
  const receivers: WebhookReceiver[] = [];
  const records = [sampleRecord(1), sampleRecord(2, { eventType: 'user_add_org' }), sampleRecord(3)];
  before(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    const store = new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client: dynamo.client });
    for (const record of [...records, sampleRecord(4, { receivedAt: '2026-11-26T00:00:00.000Z' })]) await store.put(record);
    sqs = await startAwsJsonEndpoint();
  });
  after(async function () {
    for (const receiver of receivers) await receiver.close();
    await sqs.close();
    dynamo.client.destroy();
    await dynamo.server.close();
  });
  const receiver = async (answer?: () => number) => {
    const started = await startWebhookReceiver(TEST_WEBHOOK_SECRET, answer);
    receivers.push(started);
    return started;
  };
  const forward = (url: string, ...args: string[]) =>
    runCli(['forward', ...args, '--endpoint', dynamo.endpoint], { env: { ...CLEAN_ENV, DINGTALK_FORWARD_URL: url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET } });

  it('dead-letters every record of the batch to SQS, then re-sends them from the store under the same webhook-ids', async function () {
    const down = await receiver(() => 503);
    const handler = createHandler({
      env: { DINGTALK_FORWARD_URL: down.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET },
      deadLetter: sqsDeadLetter({ client: new AwsJsonClient({ service: SQS, endpoint: sqs.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }), queueUrl: `${sqs.url}/1/dead-letters` }),
      retry: { attempts: 2, firstDelayMs: 5, maxDelayMs: 10 },
      log: () => {},
    });
    expect(await handler(await dynamoDbStreamEvent(records))).to.deep.equal({ batchItemFailures: [] });
    const deadLetters = sqs.calls.map((call) => JSON.parse(call.input.MessageBody as string) as DeadLetterEntry);
    expect(deadLetters.map((entry) => [entry.id, entry.reason])).to.deep.equal(records.map((record) => [record.id, 'HTTP 503']));

    const up = await receiver();
    const { status, stdout } = await forward(up.url, '--since', '2026-11-27T11:00:00Z');
    expect(status, stdout).to.equal(0);
    expect(stdout).to.include('3 of 3 events delivered');
    expect(up.rejected).to.deep.equal([]);
    expect(up.deliveries.map((delivery) => delivery.id)).to.deep.equal(deadLetters.map((entry) => entry.webhookId));
    expect(up.deliveries.map((delivery) => delivery.body.data.id)).to.deep.equal(records.map((record) => record.id));
  });

  it('re-sends only the types asked for, lists without sending on --dry-run, and fails on a receiver still down', async function () {
    const up = await receiver();
    const only = await forward(up.url, '--since', '2026-11-27T11:00:00Z', '--type', 'user_*');
    expect(only.status).to.equal(0);
    expect(up.deliveries.map((delivery) => delivery.id)).to.deep.equal([webhookIdOf(records[1]!)]);

    const dry = await forward(up.url, '--since', '2026-11-25T00:00:00Z', '--until', '2026-11-27T00:00:00Z', '--dry-run');
    expect(dry.stdout).to.include('1 event would be sent');
    expect(up.deliveries).to.have.length(1);

    const down = await receiver(() => 500);
    const failed = await forward(down.url, '--since', '2026-11-27T11:00:00Z', '--type', 'user_add_org', '--attempts', '2');
    expect(failed.status).to.equal(1);
    expect(failed.stdout).to.include(`failed ${records[1]!.id} (user_add_org) to webhook: HTTP 500 after 2 attempts`);
  });

  it('gives the events after one that used up its tries at a dead receiver one try each, and draws progress only on a terminal', async function () {
    let requests = 0;
    const down = await receiver(() => (requests++, 500));
    const failed = await forward(down.url, '--since', '2026-11-27T11:00:00Z', '--attempts', '2');
    expect(failed.status).to.equal(1);
    expect(failed.stdout).to.include('0 of 3 events delivered');
    expect(failed.stdout.match(/^failed /gm)).to.have.length(3);
    // 2 tries for the first event, then 1 for each of the other two (was 2 each, 7 s of backoff per event by default).
    expect(requests).to.equal(4);
    expect(failed.stderr).to.equal('');

    const up = await receiver();
    const drawn = await runCli(['forward', '--since', '2026-11-27T11:00:00Z', '--endpoint', dynamo.endpoint], {
      env: { ...CLEAN_ENV, DINGTALK_FORWARD_URL: up.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET },
      tty: true,
    });
    expect(drawn.status).to.equal(0);
    expect(drawn.stderr).to.match(/forwarding \[#+\] 3\/3 {2}failed 0\n$/);
  });

  it('explains what it needs', async function () {
    const missing = await runCli(['forward', '--endpoint', dynamo.endpoint]);
    expect([missing.status, missing.stderr]).to.satisfy(([status, stderr]: [number, string]) => status === 2 && stderr.includes('--since is required'));
    const noSink = await runCli(['forward', '--since', '1h', '--endpoint', dynamo.endpoint]);
    expect(noSink.stderr).to.include('no sink is set');
    const badTime = await runCli(['forward', '--since', 'yesterday', '--endpoint', dynamo.endpoint]);
    expect(badTime.stderr).to.include('--since must be an ISO-8601 time');
  });
});
