import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import type { DeadLetterEntry } from '../../core/forward';
import { webhookIdOf } from '../../core/webhook';
import { createHandler, type AwsForwardDeps } from '../../handlers/aws/forward';
import { AwsJsonClient, EVENTBRIDGE, SQS } from '../../providers/aws/aws-json-client';
import { sqsDeadLetter } from '../../providers/aws/sqs-dead-letter';
import { startAwsJsonEndpoint, type AwsJsonEndpoint } from '../../testkit/aws-json-endpoint';
import { FakeSsm } from '../../testkit/fake-ssm';
import { loadJson } from '../../testkit/fixtures';
import { sampleRecord } from '../../testkit/store-contract';
import { dynamoDbStreamEvent } from '../../testkit/stream-events';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET, type WebhookReceiver } from '../../testkit/webhook-receiver';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const FAST_RETRY = { attempts: 2, firstDelayMs: 5, maxDelayMs: 10 };

describe('AWS forward handler (DynamoDB stream → webhook, EventBridge, SQS dead letters)', function () {
  let receiver: WebhookReceiver | undefined;
  let aws: AwsJsonEndpoint | undefined;
  const quiet = () => {};
  afterEach(async function () {
    await receiver?.close();
    await aws?.close();
    receiver = aws = undefined;
  });

  function handlerFor(env: Record<string, string>, deps: Partial<AwsForwardDeps> = {}) {
    const sqs = aws && new AwsJsonClient({ service: SQS, endpoint: aws.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    return createHandler({
      env,
      retry: FAST_RETRY,
      log: quiet,
      ...(aws && { eventBridge: new AwsJsonClient({ service: EVENTBRIDGE, endpoint: aws.url, region: 'us-east-1', credentials: CREDENTIALS }) }),
      ...(sqs && { deadLetter: sqsDeadLetter({ client: sqs, queueUrl: `${aws!.url}/123456789012/dead-letters` }) }),
      ...deps,
    });
  }

  it('forwards the inserts of the documented stream batch, and neither the suite check nor the modify', async function () {
    receiver = await startWebhookReceiver();
    const handler = handlerFor({ DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET }, { deadLetter: { put: async () => {} } });
    const event = loadJson('dynamodb-stream-batch');
    expect(await handler(event)).to.deep.equal({ batchItemFailures: [] });
    expect(receiver.rejected).to.deep.equal([]);
    expect(receiver.deliveries).to.have.length(1);
    const { body } = receiver.deliveries[0]!;
    expect(body.type).to.equal('bpms_instance_change');
    expect(body.data).to.include({ id: 'ding6ccabc44d2c8d38b:sha256:9f2c4e1a7b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8', source: 'push', ownerKey: 'ding6ccabc44d2c8d38b', eventTime: 1700000003000 });
    expect(body.data.payload).to.deep.include({ title: '张三提交的请假申请 🏖️' });
  });

  it('decodes a compressed payload through the store codec and delivers it whole', async function () {
    receiver = await startWebhookReceiver();
    const handler = handlerFor({ DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET }, { deadLetter: { put: async () => {} } });
    const payload = JSON.stringify({ EventType: 'attendance_check_record', DataList: Array.from({ length: 8000 }, (_, n) => ({ userId: `u${n}`, checkTime: 1700000000000 + n, 地点: '杭州' })) });
    const record = sampleRecord(1, { eventType: 'attendance_check_record', payload });
    const event = await dynamoDbStreamEvent([record]);
    expect(event.Records[0]!.dynamodb!.NewImage!.payloadGzip).to.have.property('B');
    await handler(event);
    expect(receiver.deliveries[0]!.body.data.payload).to.deep.equal(JSON.parse(payload));
  });

  it('puts each record on the EventBridge bus through the real SDK: source dingtalk, detail-type the event type', async function () {
    aws = await startAwsJsonEndpoint();
    const handler = handlerFor({ DINGTALK_EVENT_BUS: 'dingtalk-bus', DINGTALK_FORWARD_TYPES: 'bpms_*' });
    const records = [sampleRecord(1), sampleRecord(2, { eventType: 'user_add_org' })];
    expect(await handler(await dynamoDbStreamEvent(records))).to.deep.equal({ batchItemFailures: [] });
    const puts = aws.calls.filter((call) => call.target === 'AWSEvents.PutEvents');
    expect(puts).to.have.length(1);
    const [entry] = puts[0]!.input.Entries as Record<string, unknown>[];
    expect(entry).to.include({ Source: 'dingtalk', DetailType: 'bpms_instance_change', EventBusName: 'dingtalk-bus' });
    expect(JSON.parse(entry!.Detail as string), 'the envelope data: every field, null where the record has none').to.deep.equal({ headers: null, ...records[0], payload: JSON.parse(records[0]!.payload) });
  });

  it('dead-letters a record the receiver never takes to SQS, with its id and the reason, and lets the batch succeed', async function () {
    receiver = await startWebhookReceiver(undefined, () => 500);
    aws = await startAwsJsonEndpoint();
    const handler = handlerFor({ DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET });
    const record = sampleRecord(3);
    expect(await handler(await dynamoDbStreamEvent([record]))).to.deep.equal({ batchItemFailures: [] });
    const sends = aws.calls.filter((call) => call.target === 'AmazonSQS.SendMessage');
    expect(sends).to.have.length(1);
    const message = JSON.parse(sends[0]!.input.MessageBody as string) as DeadLetterEntry;
    expect(message).to.include({ kind: 'dingtalk-forward-dead-letter', id: record.id, webhookId: webhookIdOf(record), sink: 'webhook', reason: 'HTTP 500', attempts: 2 });
    expect(sends[0]!.input.MessageBody).not.to.include('请假');
  });

  it('reports the records it could not even dead-letter, by sequence number, so the stream retries them', async function () {
    receiver = await startWebhookReceiver(undefined, (n) => (n === 0 ? 200 : 500));
    aws = await startAwsJsonEndpoint(new Set(['AmazonSQS.SendMessage']));
    const handler = handlerFor({ DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET });
    const event = await dynamoDbStreamEvent([sampleRecord(4), sampleRecord(5)], 700);
    expect(await handler(event)).to.deep.equal({ batchItemFailures: [{ itemIdentifier: event.Records[1]!.dynamodb!.SequenceNumber }] });
  });

  it('acknowledges every batch and forwards nothing when no sink is set', async function () {
    const lines: unknown[] = [];
    const handler = createHandler({ env: { DINGTALK_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters' }, log: (line) => lines.push(line) });
    expect(await handler(await dynamoDbStreamEvent([sampleRecord(6)]))).to.deep.equal({ batchItemFailures: [] });
    expect(lines).to.deep.equal([{ level: 'info', msg: 'forward_batch', records: 1, skipped: 'no sink set (DINGTALK_FORWARD_URL, DINGTALK_EVENT_BUS)' }]);
  });

  it('names every bad setting at once: the webhook URL and the missing dead-letter queue', async function () {
    const handler = createHandler({ env: { DINGTALK_FORWARD_URL: 'ftp://example.com/', DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET }, log: quiet });
    const failure = (await handler(await dynamoDbStreamEvent([sampleRecord(7)])).catch((error: unknown) => error)) as ConfigError;
    expect(failure).to.be.instanceOf(ConfigError);
    expect(failure.problems.map((problem) => problem.variable).sort()).to.deep.equal(['DINGTALK_DEAD_LETTER_QUEUE_URL', 'DINGTALK_FORWARD_URL']);
  });

  it('reads the webhook secret from SSM on a deployed stage, and names the parameter when it is missing', async function () {
    const ssm = await new FakeSsm().start();
    try {
      receiver = await startWebhookReceiver();
      const env = { DINGTALK_FORWARD_URL: receiver.url, DINGTALK_SSM_PREFIX: '/dingtalk-callback/prod' };
      const missing = handlerFor(env, { ssm: ssm.jsonClient(), deadLetter: { put: async () => {} } });
      const error = await missing(await dynamoDbStreamEvent([sampleRecord(7)])).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(ConfigError).and.have.property('variable', '/dingtalk-callback/prod/forward-secret');
      ssm.parameters.set('/dingtalk-callback/prod/forward-secret', TEST_WEBHOOK_SECRET);
      await missing(await dynamoDbStreamEvent([sampleRecord(7)]));
      expect(receiver.deliveries).to.have.length(1);
    } finally {
      await ssm.stop();
    }
  });
});
