import { STREAM_LEASES } from '../../core/stream-lease';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { templateApiCalls, type AliyunTemplate } from '../../testkit/aliyun-template';
import { ALIYUN_FAKE_CA, ALIYUN_FAKE_PRELOAD, startAliyunCloud, type AliyunCloud, type CloudCall } from '../../testkit/aliyun-cloud';
import { SAMPLE_ENV } from '../../testkit/fixtures';
import { aliyunCredentialsFile, deployService, refusedDeploy, removeService, type FailedRun, type PackageOptions, type PackagedService } from '../../testkit/serverless';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';

const ROOT = join(__dirname, '..', '..');
const ACCOUNT = '1234567890123456';
const REGION = 'cn-shanghai';
const SERVICE = 'dingtalk-callback-dev';
const TABLE = 'dingtalk_callback_dev_events';
/** The provider's code bucket, one per account and region. */
const BUCKET = `sls-${ACCOUNT}-${REGION}`;
const OTHER_STAGE_ZIP = 'serverless/dingtalk-callback/prod/1764288000000-2025-11-28T00:00:00.000Z/dingtalk-callback.zip';

interface Config {
  functions: Record<string, { handler: string; events?: Array<Record<string, unknown>> }>;
}

/**
 * serverless.aliyun.yml as it is, plus stand-ins (running the callback handler) for a function with
 * a timer event and one with a tablestore event while the repository has none, so the triggers are
 * rehearsed either way.
 */
function rehearsedConfig(): { text: string; config: Config } {
  const config = yaml.load(readFileSync(join(ROOT, 'serverless.aliyun.yml'), 'utf8')) as Config;
  const has = (type: string) => Object.values(config.functions).some((fn) => fn.events?.some((event) => type in event));
  if (!has('timer')) config.functions.rehearsalTimer = { handler: 'handlers/aliyun/callback.handler', events: [{ timer: { cronExpression: '@every 10m', payload: { reason: 'rehearsal' } } }] };
  if (!has('tablestore')) config.functions.rehearsalStream = { handler: 'handlers/aliyun/callback.handler', events: [{ tablestore: {} }] };
  return { text: yaml.dump(config, { lineWidth: -1 }), config };
}

/** How the rehearsal runs `serverless`: every HTTP(S) connection answered by the fake cloud. */
function rehearsal(cloud: AliyunCloud, ots: LocalTablestore, settings: Record<string, string>, args: string[] = []): PackageOptions {
  return {
    args,
    nodeArgs: ['--require', ALIYUN_FAKE_PRELOAD],
    // No CI variable: the provider plugin's analytics must stay silent without it.
    env: { ...settings, TABLESTORE_INSTANCE: ots.instance, ALIYUN_REGION: REGION, ALIYUN_FAKE_PORT: String(cloud.port), ALIYUN_FAKE_HTTP_PORT: String(cloud.httpPort), NODE_EXTRA_CA_CERTS: ALIYUN_FAKE_CA },
    home: aliyunCredentialsFile(ots.credentials),
    files: { 'serverless.aliyun.yml': rehearsedConfig().text },
  };
}

/** The rehearsal of the real `sls deploy`. */
async function deploy(cloud: AliyunCloud, ots: LocalTablestore, args: string[] = []): Promise<PackagedService> {
  return deployService('serverless.aliyun.yml', rehearsal(cloud, ots, { ...SAMPLE_ENV, ...RECOVER_ENV }, args));
}

/** The rehearsal of the real `sls remove`, from a shell without the DingTalk settings: a remove needs none. */
async function remove(cloud: AliyunCloud, ots: LocalTablestore): Promise<string> {
  return removeService('serverless.aliyun.yml', rehearsal(cloud, ots, {}));
}

/** The recover function's app, from the deploying shell like the other secrets. */
const RECOVER_ENV = { DINGTALK_APP_KEY: 'dingrehearsalapp', DINGTALK_APP_SECRET: 'rehearsal-app-secret' };
/** Both timers off, and recover on a schedule of its own: then no DingTalk app is needed. */
const TIMERS_OFF = { DINGTALK_RECOVER_ENABLED: 'false', DINGTALK_RECOVER_SCHEDULE: '@every 2h', DINGTALK_STREAM_ENABLED: 'false' };

const named = (calls: CloudCall[], action: string) => calls.filter((call) => call.action === action);

describe('sls deploy --config serverless.aliyun.yml, rehearsed against a fake Alibaba Cloud', function () {
  this.timeout(120_000);
  let ots: LocalTablestore;
  let cloud: AliyunCloud;
  let first: CloudCall[];
  let second: CloudCall[];
  let deployed: PackagedService;
  const functions = Object.keys(rehearsedConfig().config.functions);

  before(async function () {
    ots = await startTablestoreServer({ instance: 'dt-instance' });
    cloud = await startAliyunCloud({ tablestore: ots.endpoint, accountId: ACCOUNT });
    deployed = await deploy(cloud, ots);
    first = cloud.calls.splice(0);
    await deployed.remove();
    deployed = await deploy(cloud, ots);
    second = cloud.calls.splice(0);
  });
  after(async () => {
    await deployed?.remove();
    await cloud?.close();
    await ots?.close();
  });

  it('calls Alibaba Cloud over HTTPS only, in the region of ALIYUN_REGION, and nothing else (no analytics)', function () {
    expect(first.length).to.be.above(30);
    for (const call of [...first, ...second]) {
      expect(call.scheme, `${call.host} ${call.action}`).to.equal('https');
      expect(call.host).to.match(/(^|\.)aliyuncs\.com$/);
      if (call.host !== 'ram.aliyuncs.com') expect(call.host).to.contain(REGION);
    }
    for (const name of cloud.serverNames) expect(name).to.match(/\.aliyuncs\.com$/);
  });

  it('makes the RAM roles before anything else, and gives the FC service the exec role', function () {
    const firstChange = first.findIndex((call) => call.service !== 'ram' && call.method !== 'GET');
    expect(first.slice(0, firstChange).map((call) => call.service)).to.satisfy((services: string[]) => services.every((service) => service === 'ram'));
    expect(named(first, 'CreateRole').map((call) => call.params.RoleName)).to.include.members([`sls-${SERVICE}-${REGION}-exec-role`, `sls-${SERVICE}-${REGION}-invoke-role`]);
    expect(named(first, 'CreateService')[0]!.params).to.include({ serviceName: SERVICE, role: `acs:ram::${ACCOUNT}:role/sls-${SERVICE}-${REGION}-exec-role` });
  });

  it('creates each function with nodejs20, its handler and its environment, the events table defaulting per stage', function () {
    const created = named(first, 'CreateFunction').map((call) => call.params);
    expect(created.map((fn) => fn.functionName)).to.have.members(functions.map((key) => `${SERVICE}-${key}`));
    const callback = created.find((fn) => fn.functionName === `${SERVICE}-callback`)!;
    expect(callback).to.include({ runtime: 'nodejs20', handler: 'handlers/aliyun/callback.handler' });
    expect(callback.environmentVariables).to.deep.equal({
      ...SAMPLE_ENV,
      DINGTALK_MAX_SKEW_SECONDS: '0',
      EVENTS_TABLE: TABLE,
      TABLESTORE_INSTANCE: 'dt-instance',
      TABLESTORE_ENDPOINT: `https://dt-instance.${REGION}.ots.aliyuncs.com`,
    });
  });

  it('uploads the code zip with a Content-MD5 that OSS checks', function () {
    const [upload] = named(first, 'PutObject');
    expect(upload!.body.subarray(0, 2).toString()).to.equal('PK');
    expect(upload!.headers['content-md5']).to.equal(createHash('md5').update(upload!.body).digest('base64'));
  });

  it('routes /dingtalk through API Gateway with a role that may invoke this service only', function () {
    const [api] = named(first, 'CreateApi');
    expect(JSON.parse(String(api!.params.RequestConfig))).to.include({ RequestProtocol: 'HTTPS', RequestPath: '/dingtalk', RequestHttpMethod: 'ANY' });
    expect(JSON.parse(String(api!.params.ServiceConfig)).FunctionComputeConfig).to.include({ FunctionName: `${SERVICE}-callback`, RoleArn: `acs:ram::${ACCOUNT}:role/sls-${SERVICE}-${REGION}-invoke-role` });
    expect(named(first, 'AttachPolicyToRole').map((call) => call.params.PolicyName)).not.to.include('AliyunFCInvocationAccess');
    const invoke = named(first, 'CreatePolicy').find((call) => call.params.PolicyName === `fc-${SERVICE}-${REGION}-invoke`)!;
    const statements = (JSON.parse(String(invoke.params.PolicyDocument)) as { Statement: Array<{ Action: string[]; Resource: string[] }> }).Statement;
    expect(statements).to.have.length(1);
    expect(statements[0]!.Action).to.deep.equal(['fc:InvokeFunction']);
    for (const resource of statements[0]!.Resource) expect(resource).to.match(new RegExp(`^acs:fc:${REGION}:\\*:services/${SERVICE}(\\.\\*)?/functions/${SERVICE}-[A-Za-z]+$`));
  });

  it("grants the exec role PutRow on this stage's table and the forward function's dead-letter table, and recover its inbox, the type index and the suite ticket's row, only", function () {
    const exec = named(first, 'CreatePolicy').find((call) => call.params.PolicyName === `fc-${SERVICE}-${REGION}-access`)!;
    const statements = (JSON.parse(String(exec.params.PolicyDocument)) as { Statement: Array<{ Action: string[]; Resource: string[] }> }).Statement;
    const table = (name: string) => `acs:ots:${REGION}:*:instance/dt-instance/table/${name}`;
    expect(statements.filter((statement) => statement.Action.some((action) => action.startsWith('ots:')))).to.deep.equal([
      { Effect: 'Allow', Action: ['ots:PutRow'], Resource: [table(TABLE), table(`${TABLE}_dead_letters`)] },
      { Effect: 'Allow', Action: ['ots:PutRow', 'ots:GetRange', 'ots:DeleteRow'], Resource: [table(`${TABLE}_inbox`), table(`${TABLE}_by_type`)] },
      { Effect: 'Allow', Action: ['ots:GetRow'], Resource: [table(TABLE)] },
    ]);
  });

  it('creates the recover function with its app and inbox table, and its timer trigger every hour', function () {
    const recover = named(first, 'CreateFunction').map((call) => call.params).find((fn) => fn.functionName === `${SERVICE}-recover`)!;
    expect(recover).to.include({ runtime: 'nodejs20', handler: 'handlers/aliyun/recover.handler', timeout: 120 });
    expect(recover.environmentVariables).to.include({ ...RECOVER_ENV, RECOVER_INBOX_TABLE: `${TABLE}_inbox`, DINGTALK_API_BASE: 'https://oapi.dingtalk.com' });
    const timer = named(first, 'CreateTrigger').find((call) => call.url.split('/')[5] === `${SERVICE}-recover`)!;
    expect(timer.params).to.include({ triggerType: 'timer' });
    expect(timer.params.triggerConfig).to.include({ cronExpression: '@every 60m', enable: true });
  });

  it('creates the stream function for a 65-minute lease within its 70-minute timeout, at 128 MB, with its app, and its timer trigger every hour', function () {
    const stream = named(first, 'CreateFunction').map((call) => call.params).find((fn) => fn.functionName === `${SERVICE}-stream`)!;
    expect(stream).to.include({ runtime: 'nodejs20', handler: 'handlers/aliyun/stream.handler', timeout: STREAM_LEASES.aliyun.timeoutSeconds, memorySize: 128 });
    expect(stream.environmentVariables).to.include({ ...RECOVER_ENV, DINGTALK_STREAM_LEASE_SECONDS: String(STREAM_LEASES.aliyun.leaseSeconds), DINGTALK_OPENAPI_ENDPOINT: 'https://api.dingtalk.com' });
    const timer = named(first, 'CreateTrigger').find((call) => call.url.split('/')[5] === `${SERVICE}-stream`)!;
    expect(timer.params).to.include({ triggerType: 'timer' });
    expect(timer.params.triggerConfig).to.include({ cronExpression: `@every ${STREAM_LEASES.aliyun.everySeconds / 60}m`, enable: true });
  });

  it('creates the Tablestore table with its indexes, turns its Stream on for the Tablestore trigger, and creates the dead-letter and inbox tables', async function () {
    expect(named(first, 'CreateTable')).to.have.length(3);
    const client = createTablestoreClient(ots.clientOptions);
    expect((await client.describeTable({ tableName: `${TABLE}_dead_letters` })).tableMeta.primaryKey.map((column) => column.name)).to.deep.equal(['deadLetterId']);
    expect((await client.describeTable({ tableName: `${TABLE}_inbox` })).tableMeta.primaryKey.map((column) => column.name)).to.deep.equal(['source', 'replyId']);
    const described = await client.describeTable({ tableName: TABLE });
    expect(described.indexMetas.map((index) => index.name)).to.deep.equal([`${TABLE}_by_type`, `${TABLE}_by_instance`, `${TABLE}_by_time`]);
    expect(described.streamDetails).to.include({ enableStream: true, expirationTime: 168 });
  });

  it('indexes the fields of the per-push log line in the logstore', function () {
    const [index] = named(first, 'CreateIndex');
    const keys = (index!.params as { keys: Record<string, { type: string; json_keys?: Record<string, { type: string }> }> }).keys;
    expect(keys.message!.type).to.equal('json');
    expect(Object.keys(keys.message!.json_keys!)).to.have.members(['level', 'msg', 'outcome', 'eventType', 'id', 'status', 'latencyMs', 'error', 'reason']);
    expect(keys.message!.json_keys!.latencyMs!.type).to.equal('long');
    expect(named(first, 'UpdateIndex')).to.deep.equal([]);
  });

  it('creates the timer and Tablestore triggers, the latter invoked through a role scoped to its function', function () {
    const triggers = named(first, 'CreateTrigger').map((call) => ({ fn: call.url.split('/')[5], ...(call.params as { triggerType: string; triggerConfig: object; sourceArn?: string; invocationRole?: string }) }));
    const timer = triggers.find((trigger) => trigger.triggerType === 'timer')!;
    expect(timer.triggerConfig).to.include({ enable: true });
    expect((timer.triggerConfig as { cronExpression: string }).cronExpression).to.be.a('string');
    const stream = triggers.find((trigger) => trigger.triggerType === 'tablestore')!;
    expect(stream).to.include({ sourceArn: `acs:ots:${REGION}:${ACCOUNT}:instance/dt-instance/table/${TABLE}` });
    const role = named(first, 'CreateRole').find((call) => `acs:ram::${ACCOUNT}:role/${String(call.params.RoleName).toLowerCase()}` === stream.invocationRole)!;
    expect(JSON.parse(String(role.params.AssumeRolePolicyDocument)).Statement[0].Principal).to.deep.equal({ Service: ['ots.aliyuncs.com'] });
    const policy = named(first, 'CreatePolicy').find((call) => String(call.params.PolicyName).includes('ots-invoke'))!;
    const invoke = (JSON.parse(String(policy.params.PolicyDocument)) as { Statement: Array<{ Action: string[]; Resource: string[] }> }).Statement[0]!;
    expect(invoke.Action).to.deep.equal(['fc:InvokeFunction']);
    for (const resource of invoke.Resource) expect(resource).to.match(new RegExp(`/functions/${stream.fn}$`));
  });

  it('changes nothing but the code on a second deploy', function () {
    const changes = second.filter((call) => !/^(Get|List|Describe)/.test(call.action)).map((call) => call.action);
    expect([...new Set(changes)].sort()).to.deep.equal(['DeployApi', 'ModifyApi', 'PutObject', 'UpdateFunction']);
  });

  describe('then sls remove, refused half-way, run again, and once more', function () {
    let refused: Error & { output?: string };
    let stopped: CloudCall[];
    /** The calls of the refused remove and of the one that finished it. */
    let removal: CloudCall[];
    let output: string;
    let again: CloudCall[];
    let againOutput: string;
    const at = (action: string, match: (call: CloudCall) => boolean = () => true) => removal.findIndex((call) => call.action === action && match(call));
    const roles = [`sls-${SERVICE}-${REGION}-exec-role`, `sls-${SERVICE}-${REGION}-invoke-role`, `sls-${SERVICE}-${REGION}-forward-ots-invoke`];

    before(async function () {
      cloud.refuse('ram:DeletePolicy');
      refused = (await remove(cloud, ots).catch((error: Error) => error)) as Error & { output?: string };
      stopped = cloud.calls.splice(0);
      cloud.allow('ram:DeletePolicy');
      output = await remove(cloud, ots);
      removal = [...stopped, ...cloud.calls.splice(0)];
      // Meanwhile another stage deployed to the region: its code is in the bucket the provider shares.
      cloud.putObject(BUCKET, OTHER_STAGE_ZIP, Buffer.from('PK'));
      againOutput = await remove(cloud, ots);
      again = cloud.calls.splice(0);
    });

    it("deletes the bridge's timer and Tablestore triggers before their functions, over HTTPS only", function () {
      for (const call of [...removal, ...again]) expect(call.scheme, `${call.host} ${call.action}`).to.equal('https');
      const deleted = removal.filter((call) => call.action === 'DeleteTrigger' && call.status === 204).map((call) => call.url.split('/').slice(-3).join('/'));
      expect(deleted).to.have.members([`${SERVICE}-recover/triggers/timer`, `${SERVICE}-stream/triggers/timer`, `${SERVICE}-forward/triggers/tablestore`]);
      for (const fn of ['recover', 'forward']) {
        expect(at('DeleteTrigger', (call) => call.url.includes(`/functions/${SERVICE}-${fn}/`))).to.be.below(at('DeleteFunction', (call) => call.url.endsWith(`/functions/${SERVICE}-${fn}`)));
      }
    });

    it('deletes every role the deploy made and its policies once nothing uses them: detached, the role, then the policy', function () {
      const lastUse = Math.max(at('DeleteService'), at('DeleteApiGroup'));
      for (const role of roles) {
        const detached = removal.filter((call) => call.action === 'DetachPolicyFromRole' && call.params.RoleName === role);
        expect(detached, role).to.have.length(1);
        const deleteRole = at('DeleteRole', (call) => call.params.RoleName === role);
        const deletePolicy = at('DeletePolicy', (call) => call.params.PolicyName === detached[0]!.params.PolicyName);
        expect([lastUse, removal.indexOf(detached[0]!), deleteRole, deletePolicy], role).to.satisfy((order: number[]) => order.every((index, i) => index > (order[i - 1] ?? -1)));
        expect(removal[deletePolicy]!.params.CascadingDelete).to.equal('true');
      }
      const left = cloud.holdings();
      expect({ roles: left.roles, policies: left.policies, triggers: left.triggers, functions: left.functions, services: left.services, apis: left.apis, apiGroups: left.apiGroups }).to.deep.equal({
        roles: [],
        policies: [],
        triggers: [],
        functions: [],
        services: [],
        apis: [],
        apiGroups: [],
      });
    });

    it('keeps the events table and its _inbox and _dead_letters tables, and says so', async function () {
      expect(removal.filter((call) => call.service === 'ots').map((call) => call.action)).to.deep.equal([]);
      const { tableNames } = await createTablestoreClient(ots.clientOptions).listTable({});
      expect(tableNames).to.include.members([TABLE, `${TABLE}_inbox`, `${TABLE}_dead_letters`]);
      expect(output).to.contain(`Kept the Tablestore tables dt-instance/${TABLE}, dt-instance/${TABLE}_inbox, dt-instance/${TABLE}_dead_letters: a remove never deletes events`);
    });

    it('stops at a refused ram:DeletePolicy with one line naming it and the policy; run again, it goes on from there', function () {
      expect(refused).to.be.instanceOf(Error);
      expect(refused.output).to.contain(
        `Alibaba Cloud refused ram:DeletePolicy on acs:ram:*:${ACCOUNT}:policy/fc-${SERVICE}-${REGION}-access (NoPermission): grant the deploying user that permission (docs/deploy-aliyun.md lists them all), then run \`sls remove\` again.`,
      );
      expect(refused.output).not.to.match(/Uncaught exception|TypeError|URL: https/);
      const ram = stopped.filter((call) => call.service === 'ram' && call.status < 300 && !/^(Get|List)/.test(call.action));
      expect(ram.map((call) => `${call.action} ${String(call.params.RoleName ?? '')}`)).to.deep.equal([`DetachPolicyFromRole ${roles[0]}`, `DeleteRole ${roles[0]}`]);
      expect(output).to.contain(`RAM role ${roles[0]}: already gone`);
      expect(output).to.contain(`RAM policy fc-${SERVICE}-${REGION}-access: deleted`);
    });

    it('removes the code bucket with the zips of this stage, and keeps it while another stage still has code in it', function () {
      expect(removal.filter((call) => call.action === 'DeleteBucket' && call.status === 204)).to.have.length(1);
      expect(again.map((call) => call.action)).not.to.include('DeleteBucket');
      expect(againOutput).to.contain(`Kept OSS bucket ${BUCKET}: it holds the code of other stages or services`);
      expect(cloud.holdings().objects).to.deep.equal([`${BUCKET}/${OTHER_STAGE_ZIP}`]);
    });

    it('removes again without an error, changing nothing, where everything is already gone', function () {
      const changed = again.filter((call) => !/^(Get|List|Describe)/.test(call.action) && call.status < 300);
      expect(changed.map((call) => call.action)).to.deep.equal([]);
      for (const role of roles) expect(againOutput).to.contain(`RAM role ${role}: already gone`);
      expect(againOutput).to.match(/FC trigger .*-forward\/tablestore \(tablestore\): already gone/);
    });
  });
});

describe('sls deploy --config serverless.aliyun.yml, refused', function () {
  this.timeout(120_000);
  let ots: LocalTablestore;
  let cloud: AliyunCloud;
  /** A deploy refused at its first change, packaged with the recover and stream timers off, recover on another schedule, and no DingTalk app. */
  let refused: FailedRun;
  let calls: CloudCall[];
  before(async function () {
    ots = await startTablestoreServer({ instance: 'dt-instance' });
    cloud = await startAliyunCloud({ tablestore: ots.endpoint, accountId: ACCOUNT });
    cloud.refuse('ram:CreateRole');
    refused = await refusedDeploy('serverless.aliyun.yml', rehearsal(cloud, ots, { ...SAMPLE_ENV, ...TIMERS_OFF }));
    calls = cloud.calls.splice(0);
  });
  after(async () => {
    await refused?.remove();
    await cloud?.close();
    await ots?.close();
  });

  it('stops at a refused ram:CreateRole with one line naming it and the role, before changing anything', function () {
    expect(refused.output).to.contain(`Alibaba Cloud refused ram:CreateRole on acs:ram:*:${ACCOUNT}:role/sls-${SERVICE}-${REGION}-exec-role (NoPermission)`);
    expect(refused.output).not.to.match(/Uncaught exception|TypeError/);
    expect(calls.filter((call) => !/^(Get|List|Describe)/.test(call.action)).map((call) => call.action)).to.deep.equal(['CreateRole']);
  });

  // The packaging of that deploy: `sls deploy` packages as `sls package` does before it calls the cloud.
  it('packages with DINGTALK_RECOVER_ENABLED=false, DINGTALK_RECOVER_SCHEDULE and DINGTALK_STREAM_ENABLED=false without a DingTalk app, saying the timers are off, recover on the schedule asked', async function () {
    const template = await refused.json<AliyunTemplate>('configuration-template-update.json');
    const timers = Object.values(template.Resources).filter((resource) => resource.Type === 'BRIDGE::FC::Trigger' && resource.Properties.triggerType === 'timer');
    expect(timers.map((timer) => [timer.Properties.functionName, timer.Properties.triggerConfig])).to.deep.equal([
      [`${SERVICE}-recover`, { cronExpression: '@every 2h', enable: false }],
      [`${SERVICE}-stream`, { cronExpression: '@every 60m', enable: false }],
    ]);
    expect(templateApiCalls(template), 'a timer that is off costs nothing').to.deep.equal({ recover: 0, streamOpens: 0, total: 0, share: 0 });
    expect(refused.output).to.contain("DingTalk server-API calls a month on these schedules: 0, 0% of the standard edition's 5,000");
    expect(refused.output).to.contain("  recover: off, so DingTalk's failed list is not pulled; `dingtalk-callback recover` pulls it by hand\n");
    expect(refused.output).to.contain('  stream: off, so no DingTalk Stream connection is held and an app in Stream mode receives nothing here (DINGTALK_STREAM_ENABLED=true holds one)\n');
    expect(refused.output).to.contain('Finished Packaging.');
  });

  it('refuses `sls deploy function` with a message saying what to run instead', async function () {
    const failure = await refusedDeploy('serverless.aliyun.yml', rehearsal(cloud, ots, { ...SAMPLE_ENV, ...RECOVER_ENV }, ['function', '-f', 'callback']));
    await failure.remove();
    expect(failure.output).to.contain('`sls deploy function` is not supported on Alibaba Cloud');
  });
});
