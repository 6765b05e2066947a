import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEV_CREDENTIALS, DEV_FORWARD_SECRET } from '../../providers/local/dev-credentials';
import { DEV_APP } from '../../providers/local/dingtalk-sandbox';
import { parseMessage, toRecord } from '../../core/events';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { startDynamoDbServer } from '../../providers/local/dynamodb-server';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME, localDynamoDbClient, localDynamoDbEndpoint, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { eventText, recordId, SAMPLE_ENV } from '../../testkit/fixtures';
import { approvalItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { CLEAN_ENV, runCli } from '../../testkit/cli';
import { pushTo, startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { freePort } from '../../testkit/ports';
import { startWebhookReceiver } from '../../testkit/webhook-receiver';
import { createLocalStream } from '../../providers/local/local-stream';

async function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() && false));
    socket.once('error', () => resolve(true));
  });
}

describe('npm start: the local stack', function () {
  this.timeout(120_000);
  // Each test has a data folder of its own: none relies on what another stored.
  let dataDir: string;
  let stack: LocalStack | undefined;
  let gateway: FakeStreamGateway | undefined;
  beforeEach(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'local-stack-'));
  });
  afterEach(async function () {
    await stack?.stop('SIGKILL');
    stack = undefined;
    await gateway?.close();
    gateway = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the records of an earlier run, forwards what it left unforwarded, uses the DINGTALK_* variables set, and stores a redelivery once', async function () {
    // An earlier run's data folder: the approval stored, through the same local store and stream
    // npm start runs, and the run killed while its forward function had not answered.
    const approval = eventText('bpms_instance_change');
    const killed = createLocalStream({ tableName: LOCAL_TABLE_NAME, journal: join(dataDir, 'forward-pending.jsonl'), invoke: () => new Promise(() => {}), onFailure: async () => {} });
    const earlier = await startDynamoDbServer({ port: 0, dataDir, onPut: (tableName, item) => tableName === LOCAL_TABLE_NAME && killed.insert(item) });
    const client = localDynamoDbClient(localDynamoDbEndpoint(earlier.port));
    try {
      await ensureEventTable(client, LOCAL_TABLE_NAME);
      await new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client }).put(toRecord(parseMessage(Buffer.from(approval)), DEV_CREDENTIALS.DINGTALK_OWNER_KEY, new Date()));
    } finally {
      // Else a failure here leaves the server holding mocha open.
      client.destroy();
      await earlier.close();
    }

    const dingtalk = await new FakeDingTalk().start();
    const receiver = await startWebhookReceiver(DEV_FORWARD_SECRET);
    // The same app in Stream mode: npm start runs the relay beside the push URL.
    const streamGateway = (gateway = new FakeStreamGateway());
    streamGateway.clientId = dingtalk.appKey;
    streamGateway.clientSecret = dingtalk.appSecret;
    const gatewayBase = await streamGateway.start();
    try {
      stack = await startLocalStack(dataDir, { ...SAMPLE_ENV, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_BASE: dingtalk.url, DINGTALK_OPENAPI_ENDPOINT: gatewayBase, DINGTALK_FORWARD_URL: receiver.url });
      expect(stack.output()).to.include('; first the 1 event an earlier run stored but had not forwarded when it stopped');
      const [replayed] = await receiver.accepted(1);
      expect(replayed?.body.data.id).to.equal(recordId(approval, DEV_CREDENTIALS.DINGTALK_OWNER_KEY));
      // A Stream event is stored, acked after, and forwarded as a pushed one is.
      expect(stack.output()).to.include(`Stream: receiving the events of ${dingtalk.appKey} over DingTalk Stream mode into this store`);
      await streamGateway.until(() => streamGateway.open.length === 1, 30_000, 'npm start to open a Stream connection');
      streamGateway.push({ eventType: 'user_leave_org', eventId: 'stream-evt-1', data: JSON.stringify({ userId: ['u9'] }) });
      await streamGateway.until(() => streamGateway.acksWith('SUCCESS').length === 1, 10_000, 'the ack');
      const [, streamed] = await receiver.accepted(2);
      expect(streamed?.body.data).to.include({ id: `${dingtalk.appKey}:event:user_leave_org:stream-evt-1`, source: 'stream' });
      expect(stack.output()).to.include(`Stream: user_leave_org  ${dingtalk.appKey}:event:user_leave_org:stream-evt-1  stored`);
      expect(stack.output()).to.include("Recover: on its schedule, DingTalk's failed list is pulled into this store");
      expect(stack.output()).to.include('Scheduling [recover] cron: [0 */1 * * *]');
      expect(stack.output()).to.include('Scheduling [stream] cron: disabled');
      // A scheduled run, invoked now, pulls from the DINGTALK_API_BASE set, as the settings table says.
      dingtalk.failed.push(approvalItem(1, dingtalk.corpId));
      const run = await fetch(`http://localhost:${stack.lambdaPort}/2015-03-31/functions/dingtalk-callback-dev-recover/invocations`, { method: 'POST', body: '{}' });
      const answer = await run.text();
      expect([run.status, run.headers.get('x-amz-function-error')], answer).to.deep.equal([200, null]);
      expect(dingtalk.failed).to.deep.equal([]);
      const recovered = (await openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort)).list()).records.filter((record) => record.source === 'recovered');
      expect(recovered.map((record) => record.processInstanceId)).to.deep.equal(['proc-000001']);
      expect(stack.output()).not.to.include(dingtalk.appSecret);
    } finally {
      await dingtalk.stop();
      await receiver.close();
    }
    expect(stack.output()).not.to.include(DEV_CREDENTIALS.DINGTALK_AES_KEY);
    expect(stack.output()).not.to.include(SAMPLE_ENV.DINGTALK_AES_KEY);
    const store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));
    expect((await store.get(recordId(approval, DEV_CREDENTIALS.DINGTALK_OWNER_KEY)))?.payload).to.equal(approval);
    expect((await pushTo(stack, approval)).status).to.equal(401);
    // The same message for another ownerKey is another owner's event; its redelivery is not.
    expect(await pushTo(stack, approval, SAMPLE_ENV)).to.deep.equal({ status: 200, reply: 'success' });
    expect(await pushTo(stack, approval, SAMPLE_ENV)).to.deep.equal({ status: 200, reply: 'success' });
    expect((await store.get(recordId(approval, SAMPLE_ENV.DINGTALK_OWNER_KEY)))?.payload).to.equal(approval);
    expect((await store.list()).records.filter((record) => record.source === 'push')).to.have.length(2);
    await stack.stop('SIGTERM');
    expect(stack.output()).to.include('Local DynamoDB stopped');
    stack = undefined;
    // Stopping npm start closed its Stream connection.
    await streamGateway.until(() => streamGateway.open.length === 0, 5000, 'the Stream connection closed');
  });

  it('with DINGTALK_SANDBOX=true also runs a stand-in for DingTalk\'s server API: send --undelivered parks a push there, recover and the hourly recover bring it in, callback-url registers the URL; Ctrl-C stops it all, every port closed, the data kept', async function () {
    const dingtalkPort = await freePort();
    stack = await startLocalStack(dataDir, { DINGTALK_SANDBOX: 'true' }, { dingtalkPort });
    const sandbox = `http://127.0.0.1:${dingtalkPort}`;
    expect(stack.output()).to.include(`DingTalk sandbox (DINGTALK_SANDBOX=true): a local stand-in for DingTalk's server API at ${sandbox} (gettoken, the failed lists, callback registration), app ${DEV_APP.DINGTALK_APP_KEY}`);
    expect(stack.output()).to.include(`Recover: on its schedule (rate(1 hour)), the failed list of the DingTalk sandbox at ${sandbox} is pulled into this store`);
    expect(stack.output()).to.include('Scheduling [recover] cron: [0 */1 * * *]');
    expect(stack.output()).to.include('Stream: off (the DingTalk sandbox has no Stream gateway');
    // Nor does the scheduled stream function try DingTalk's real gateway with the sandbox's app.
    expect(stack.output()).to.include('Scheduling [stream] cron: disabled');
    // The CLI as a newcomer runs it beside npm start: DINGTALK_SANDBOX=true, and where this stack's ports are not the defaults.
    const env = { ...CLEAN_ENV, DINGTALK_SANDBOX: 'true', DINGTALK_API_BASE: sandbox };
    const storeFlags = ['--endpoint', localDynamoDbEndpoint(stack.dynamodbPort)];
    const store = openLocalEventStore(localDynamoDbEndpoint(stack.dynamodbPort));

    const parked = await runCli(['send', 'bpms_instance_change', '--undelivered'], { env });
    expect(parked.status, parked.stderr).to.equal(0);
    expect(parked.stdout).to.equal(`parked 1 bpms_instance_change push in the failed list of the DingTalk sandbox at ${sandbox}: 1 waiting there; dingtalk-callback recover brings it into the store\n`);
    expect((await store.list()).records, 'nothing was posted').to.deep.equal([]);
    const recovered = await runCli(['recover', ...storeFlags], { env });
    expect(recovered.status, recovered.stderr).to.equal(0);
    expect(recovered.stdout).to.match(/^recovered 1 item from 1 page: 1 new/);
    const [record] = (await store.list()).records;
    expect(record).to.include({ source: 'recovered', eventType: 'bpms_instance_change', ownerKey: DEV_CREDENTIALS.DINGTALK_OWNER_KEY, corpId: DEV_CREDENTIALS.DINGTALK_OWNER_KEY });
    expect(record!.processInstanceId).to.be.a('string').and.not.equal('');

    // npm start's scheduled recover pulls from the sandbox too (invoked now rather than in an hour).
    expect((await runCli(['send', 'user_add_org', '--undelivered'], { env })).status).to.equal(0);
    const run = await fetch(`http://localhost:${stack.lambdaPort}/2015-03-31/functions/dingtalk-callback-dev-recover/invocations`, { method: 'POST', body: '{}' });
    const answer = await run.text();
    expect([run.status, run.headers.get('x-amz-function-error')], answer).to.deep.equal([200, null]);
    expect((await store.list()).records.map((each) => [each.source, each.eventType])).to.deep.equal([['recovered', 'user_add_org'], ['recovered', 'bpms_instance_change']]);

    // The old call_back API: the sandbox sends check_url to npm start's URL before it registers it.
    const registered = await runCli(['callback-url', 'register', '--url', stack.pushUrl, '--tags', 'user_add_org,bpms_instance_change'], { env });
    expect(registered.status, registered.stderr).to.equal(0);
    expect(registered.stdout).to.equal(`callback URL registered: ${stack.pushUrl} for user_add_org, bpms_instance_change\n`);
    const got = await runCli(['callback-url', 'get'], { env });
    expect(got.stdout).to.equal(`url   ${stack.pushUrl}\ntags  user_add_org, bpms_instance_change\ntoken and AES key match DINGTALK_TOKEN and DINGTALK_AES_KEY\n`);
    for (const output of [stack.output(), parked.stdout, recovered.stdout, recovered.stderr, registered.stdout, got.stdout]) expect(output).not.to.include(DEV_APP.DINGTALK_APP_SECRET);

    const { httpPort, lambdaPort, dynamodbPort, inspectorPort } = stack;
    await stack.stop('SIGINT');
    expect(stack.output()).to.include(`Local DynamoDB stopped; the events stay in ${dataDir}`);
    stack = undefined;
    for (const port of [httpPort, lambdaPort, dynamodbPort, inspectorPort, dingtalkPort]) expect(await portIsClosed(port), `port ${port} closed`).to.equal(true);
  });
});
