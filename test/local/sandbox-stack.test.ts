import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { DEV_APP } from '../../providers/local/dingtalk-sandbox';
import { localDynamoDbEndpoint, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { CLEAN_ENV, runCli } from '../../testkit/cli';
import { startLocalStack, type LocalStack } from '../../testkit/local-stack';
import { freePort } from '../../testkit/ports';

async function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket.destroy() && false));
    socket.once('error', () => resolve(true));
  });
}

describe('DINGTALK_SANDBOX=true npm start: the local stack with a stand-in for DingTalk\'s server API', function () {
  this.timeout(120_000);
  let dataDir: string;
  let stack: LocalStack | undefined;
  before(async function () {
    dataDir = await mkdtemp(join(tmpdir(), 'sandbox-stack-'));
  });
  after(async function () {
    await stack?.stop('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
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
