import { expect } from 'chai';
import { statSync } from 'node:fs';
import AdmZip from 'adm-zip';
import { openReply, sealPush } from '../../core/dingtalk-side';
import type { ApiGatewayResponse } from '../../handlers/aliyun/callback';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable, ensureInboxTable } from '../../deploy/aliyun/tablestore-tables';
import { approvalItem, contactItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { invokeBundle, zipEntries } from '../../testkit/bundle';
import { eventText, loadJson, SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { ALIYUN_TEST_PACKAGE, ALIYUN_TEST_RECOVER_APP, ALIYUN_TEST_TABLESTORE, packageService, type PackagedService } from '../../testkit/serverless';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';
import { fcGatewayEvent } from '../../testkit/gateway-events';
import { tablestoreTriggerEvent } from '../../testkit/stream-events';
import { FakeStreamGateway } from '../../testkit/fake-stream-gateway';
import { scheduledApiCallsReport } from '../../core/quota';
import { LEASE_MARGIN_MS, STREAM_LEASES } from '../../core/stream-lease';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET } from '../../testkit/webhook-receiver';
import { INSPECTOR_MARKER } from '../../testkit/inspector';
import { templateApiCalls, templateSchedules, type AliyunTemplate } from '../../testkit/aliyun-template';

const HANDLER_FILE = 'handlers/aliyun/callback.js';
const RECOVER_FILE = 'handlers/aliyun/recover.js';
const RECOVER_ENV = ALIYUN_TEST_RECOVER_APP;
const STREAM_FILE = 'handlers/aliyun/stream.js';

describe('sls package --config serverless.aliyun.yml', function () {
  this.timeout(120_000);
  let server: LocalTablestore;
  let packaged: PackagedService;
  let template: AliyunTemplate;
  /** The environment the callback is packaged with. */
  const env: Record<string, string> = { ...SAMPLE_ENV, ...ALIYUN_TEST_TABLESTORE };
  /** What a bundle invoked here gets in place of the packaged Tablestore location: the local server's. */
  let local: Record<string, string>;
  before(async function () {
    server = await startTablestoreServer();
    local = { TABLESTORE_INSTANCE: server.instance, TABLESTORE_ENDPOINT: server.endpoint };
    packaged = await packageService('serverless.aliyun.yml', ALIYUN_TEST_PACKAGE);
    template = await packaged.json<AliyunTemplate>('configuration-template-update.json');
  });
  after(async () => {
    await packaged?.remove();
    await server?.close();
  });

  const resources = (type: string) => Object.values(template.Resources).filter((resource) => resource.Type === type);

  it('packages without a warning (the bridge declares the provider configuration schema)', function () {
    expect(packaged.output).to.contain('Finished Packaging.');
    expect(packaged.output).not.to.match(/warning/i);
  });

  it('zips the esbuild bundles alone, under 1.5 MB, without the inspector of npm start', function () {
    const entries = zipEntries(packaged.zip).map((entry) => entry.name);
    expect([...entries].sort()).to.deep.equal([HANDLER_FILE, 'handlers/aliyun/forward.js', RECOVER_FILE, STREAM_FILE]);
    expect(statSync(packaged.zip).size).to.be.below(1.5 * 1024 * 1024);
    for (const entry of entries) expect(new AdmZip(packaged.zip).readAsText(entry), entry).to.not.include(INSPECTOR_MARKER);
  });

  it('compiles the callback, recover, stream and forward nodejs20 functions with their handlers and environment variables', function () {
    const functions = resources('ALIYUN::FC::Function');
    expect(functions.map((fn) => fn.Properties.handler)).to.deep.equal(['handlers/aliyun/callback.handler', 'handlers/aliyun/recover.handler', 'handlers/aliyun/stream.handler', 'handlers/aliyun/forward.handler']);
    expect(functions.map((fn) => fn.Properties.runtime)).to.deep.equal(['nodejs20', 'nodejs20', 'nodejs20', 'nodejs20']);
    const stream = functions[2]!.Properties;
    expect(stream).to.include({ timeout: STREAM_LEASES.aliyun.timeoutSeconds, memorySize: 128 });
    expect(stream.environmentVariables).to.deep.equal({
      ...env, DINGTALK_MAX_SKEW_SECONDS: '0', ...RECOVER_ENV, DINGTALK_SUITE_KEY: '', DINGTALK_SUITE_SECRET: '',
      DINGTALK_OPENAPI_ENDPOINT: 'https://api.dingtalk.com', DINGTALK_STREAM_LEASE_SECONDS: String(STREAM_LEASES.aliyun.leaseSeconds),
    });
    expect(functions[0]!.Properties.environmentVariables).to.deep.equal({ ...env, DINGTALK_MAX_SKEW_SECONDS: '0' });
    expect(functions[1]!.Properties.environmentVariables).to.deep.equal({
      ...env, DINGTALK_MAX_SKEW_SECONDS: '0', ...RECOVER_ENV, DINGTALK_SUITE_KEY: '', DINGTALK_SUITE_SECRET: '', DINGTALK_SUITE_TAGS: '',
      DINGTALK_API_BASE: 'https://oapi.dingtalk.com', RECOVER_INBOX_TABLE: 'events_inbox',
    });
    expect(functions[3]!.Properties.environmentVariables).to.deep.equal({
      ...env,
      DINGTALK_MAX_SKEW_SECONDS: '0',
      DINGTALK_FORWARD_URL: '',
      DINGTALK_FORWARD_SECRET: '',
      DINGTALK_FORWARD_TYPES: '',
      DINGTALK_DEAD_LETTER_TABLE: 'events_dead_letters',
    });
  });

  it('records the triggers the deploy makes: recover every hour (720 failed-list calls a month), stream on its lease schedule, forward on the events table', function () {
    const triggers = resources('BRIDGE::FC::Trigger').map((trigger) => trigger.Properties);
    expect(triggers.map((trigger) => [trigger.functionName, trigger.triggerType, trigger.triggerConfig])).to.deep.include.members([
      ['dingtalk-callback-dev-recover', 'timer', { cronExpression: '@every 60m', enable: true }],
      ['dingtalk-callback-dev-stream', 'timer', { cronExpression: `@every ${STREAM_LEASES.aliyun.everySeconds / 60}m`, enable: true }],
    ]);
    expect(triggers.filter((trigger) => trigger.triggerType === 'tablestore').map((trigger) => trigger.functionName)).to.deep.equal(['dingtalk-callback-dev-forward']);
  });

  it("spends 1,440 of DingTalk's 5,000 server-API calls a month by default, recover's and the stream function's, and says so at packaging", function () {
    expect(templateApiCalls(template)).to.deep.equal({ recover: 720, streamOpens: 720, total: 1440, share: 29 });
    // The lines core/quota.ts words (test/core/quota.test.ts) for the template's own schedules.
    expect(packaged.output).to.contain(scheduledApiCallsReport('aliyun', templateSchedules(template)).join('\n'));
  });

  it("grants the functions' role PutRow on the events and dead-letter tables of that instance, recover its inbox and the type index, and no other Tablestore action", function () {
    const [role] = resources('ALIYUN::RAM::Role').filter((resource) => String(resource.Properties.RoleName).endsWith('-exec-role'));
    const statements = (role!.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: string[] }> } }>)
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .filter((statement) => statement.Action.some((action) => action.startsWith('ots:')));
    const table = (name: string) => `acs:ots:cn-hangzhou:*:instance/${ALIYUN_TEST_TABLESTORE.TABLESTORE_INSTANCE}/table/${name}`;
    expect(statements).to.deep.equal([
      { Effect: 'Allow', Action: ['ots:PutRow'], Resource: [table('events'), table('events_dead_letters')] },
      { Effect: 'Allow', Action: ['ots:PutRow', 'ots:GetRange', 'ots:DeleteRow'], Resource: [table('events_inbox'), table('events_by_type')] },
      { Effect: 'Allow', Action: ['ots:GetRow'], Resource: [table('events')] },
    ]);
  });

  it('routes /dingtalk (any method: the function answers all but POST with 405) over HTTPS through API Gateway to the function', function () {
    const [api] = resources('ALIYUN::API::HTTP');
    expect(api!.Properties.RequestConfig).to.include({ RequestProtocol: 'HTTPS', RequestHttpMethod: 'ANY', RequestPath: '/dingtalk', RequestMode: 'PASSTHROUGH' });
    expect(api!.Properties.AuthType).to.equal('ANONYMOUS');
  });

  it('yields a bundle that a fresh node process loads to answer and store an API Gateway push', async function () {
    await ensureEventTable(createTablestoreClient(server.clientOptions), 'events');
    const message = eventText('user_add_org', { TimeStamp: '1700000123456' });
    const push = sealPush(SAMPLE_SETTINGS, message, SAMPLE_OWNER);
    const event = fcGatewayEvent(push);
    const context = { ...loadJson('fc-context'), credentials: { accessKeyId: server.credentials.accessKeyId, accessKeySecret: server.credentials.secretAccessKey } };
    const functionEnv = { ...(resources('ALIYUN::FC::Function')[0]!.Properties.environmentVariables as Record<string, string>), ...local };
    const run = await invokeBundle(packaged.zip, { entry: HANDLER_FILE, event, eventAsBuffer: true, context, env: functionEnv });
    expect(run.error).to.equal(undefined);
    expect(run.stderr, 'no DeprecationWarning for the SDK\'s Buffer constructor').to.equal('');
    const response = run.response as ApiGatewayResponse;
    expect(response, run.logs.join('\n')).to.include({ statusCode: 200, isBase64Encoded: false });
    expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
    const stored = await new TablestoreEventStore({ tableName: 'events', client: createTablestoreClient(server.clientOptions) }).list({ eventType: 'user_add_org' });
    expect(stored.records.map((record) => record.payload)).to.deep.equal([message]);
    expect(run.logs).to.have.length(1);
    expect(JSON.parse(run.logs[0]!)).to.include({ msg: 'push', eventType: 'user_add_org', outcome: 'created', status: 200 });
    // A redelivery: Tablestore's condition error, decoded by the bundled SDK, is acknowledged as a duplicate.
    const again = await invokeBundle(packaged.zip, { entry: HANDLER_FILE, event, eventAsBuffer: true, context, env: functionEnv });
    expect(openReply(SAMPLE_SETTINGS, (again.response as ApiGatewayResponse).body, SAMPLE_OWNER)).to.equal('success');
    expect(again.logs.map((line) => JSON.parse(line) as Record<string, unknown>)).to.have.deep.nested.property('[0].outcome', 'duplicate');
  });

  it('yields a forward bundle that a fresh node process loads to decode a Tablestore trigger event and deliver it, signed', async function () {
    const receiver = await startWebhookReceiver();
    try {
      const forwardEnv = { ...env, ...local, DINGTALK_FORWARD_URL: receiver.url, DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET };
      const run = await invokeBundle(packaged.zip, { entry: 'handlers/aliyun/forward.js', event: null, eventBytes: await tablestoreTriggerEvent(), context: loadJson('fc-context'), env: forwardEnv });
      expect(run.error).to.equal(undefined);
      expect(run.response).to.deep.equal({ delivered: 1, deadLettered: 0, skipped: 3 });
      expect(receiver.deliveries.map((delivery) => delivery.body.type)).to.deep.equal(['bpms_instance_change']);
    } finally {
      await receiver.close();
    }
  });

  it('yields a recover bundle that a fresh node process runs a pass with, on the timer event', async function () {
    const dingtalk = await new FakeDingTalk().start();
    try {
      const client = createTablestoreClient(server.clientOptions);
      await ensureEventTable(client, 'events');
      await ensureInboxTable(client, 'events_inbox');
      dingtalk.appKey = RECOVER_ENV.DINGTALK_APP_KEY;
      dingtalk.appSecret = RECOVER_ENV.DINGTALK_APP_SECRET;
      dingtalk.failed.push(approvalItem(1, dingtalk.corpId), contactItem(2, dingtalk.corpId));
      const functionEnv = { ...(resources('ALIYUN::FC::Function')[1]!.Properties.environmentVariables as Record<string, string>), ...local, DINGTALK_API_BASE: dingtalk.url };
      const context = { ...loadJson('fc-context'), credentials: { accessKeyId: server.credentials.accessKeyId, accessKeySecret: server.credentials.secretAccessKey } };
      const timer = { triggerTime: '2026-11-27T22:40:00Z', triggerName: 'recover-timer', payload: '' };
      const run = await invokeBundle(packaged.zip, { entry: RECOVER_FILE, event: timer, eventAsBuffer: true, context, env: functionEnv });
      expect(run.error).to.equal(undefined);
      expect(run.response).to.deep.equal({ pages: 1, resumed: 0, items: 2, created: 2, duplicate: 0, handshakes: 0, setAside: 0 });
      expect(JSON.parse(run.logs[0]!)).to.include({ msg: 'recover', outcome: 'done', created: 2 });
      expect(run.stdout).not.to.contain(RECOVER_ENV.DINGTALK_APP_SECRET);
    } finally {
      await dingtalk.stop();
    }
  });

  it('yields a stream bundle that a fresh node process holds a lease with, on the timer event: stores, acks, closes before its timeout', async function () {
    const gateway = new FakeStreamGateway();
    try {
      await ensureEventTable(createTablestoreClient(server.clientOptions), 'events');
      const base = await gateway.start();
      gateway.clientId = RECOVER_ENV.DINGTALK_APP_KEY;
      gateway.clientSecret = RECOVER_ENV.DINGTALK_APP_SECRET;
      const functionEnv = { ...(resources('ALIYUN::FC::Function')[2]!.Properties.environmentVariables as Record<string, string>), ...local, DINGTALK_OPENAPI_ENDPOINT: base };
      // A timeout that leaves the relay 1.5 s before the margin: the lease's end comes from Function Compute's context.
      const context = { ...loadJson('fc-context'), credentials: { accessKeyId: server.credentials.accessKeyId, accessKeySecret: server.credentials.secretAccessKey }, function: { timeout: (LEASE_MARGIN_MS + 1500) / 1000 } };
      const timer = { triggerTime: '2026-11-27T22:40:00Z', triggerName: 'stream-timer', payload: '' };
      const run = invokeBundle(packaged.zip, { entry: STREAM_FILE, event: timer, eventAsBuffer: true, context, env: functionEnv });
      await gateway.until(() => gateway.open.length === 1, 10_000, 'the bundle connected');
      gateway.push({ eventType: 'user_add_org', eventId: 'bundle-1', data: JSON.stringify({ userId: ['u1'] }) });
      const answer = await run;
      expect(answer.error).to.equal(undefined);
      expect(answer.response).to.include({ opens: 1, created: 1 });
      expect(gateway.acksWith('SUCCESS').map((ack) => ack.eventId)).to.deep.equal(['bundle-1']);
      expect(answer.stdout).not.to.contain(RECOVER_ENV.DINGTALK_APP_SECRET);
      const stored = await new TablestoreEventStore({ tableName: 'events', client: createTablestoreClient(server.clientOptions) }).list({ eventType: 'user_add_org' });
      expect(stored.records.map((record) => [record.source, record.eventId])).to.deep.include(['stream', 'bundle-1']);
    } finally {
      await gateway.close();
    }
  });

  it('yields a bundle that fails every invocation, naming the variable, when a setting is missing', async function () {
    const run = await invokeBundle(packaged.zip, { entry: HANDLER_FILE, event: loadJson('fc-apigw-check-url'), eventAsBuffer: true, context: loadJson('fc-context'), env: { ...env, DINGTALK_OWNER_KEY: '' } });
    expect(run.error).to.contain('DINGTALK_OWNER_KEY');
    expect(run.response).to.equal(undefined);
  });
});

describe('sls package --config serverless.aliyun.yml without a credentials file', function () {
  this.timeout(120_000);
  it('fails naming the file and what it must hold, without a stack trace', async function () {
    const env = { ...SAMPLE_ENV, ...RECOVER_ENV, EVENTS_TABLE: 'events', TABLESTORE_INSTANCE: 'instance', TABLESTORE_ENDPOINT: 'https://instance.cn-hangzhou.ots.aliyuncs.com' };
    const failure = (await packageService('serverless.aliyun.yml', { env }).catch((error: unknown) => error)) as { output?: string };
    const output = String(failure.output);
    expect(output).to.match(/cannot read the Alibaba Cloud credentials file ~\/\.aliyun_credentials \(ENOENT[^)]*\): it must be an ini file whose \[default\] section sets aliyun_account_id, aliyun_access_key_id and aliyun_access_key_secret; ALIYUN_CREDENTIALS_FILE names another file/);
    expect(output).not.to.match(/^\s+at /m);
  });
});
