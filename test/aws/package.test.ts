import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { expect } from 'chai';
import { openReply, sealPush } from '../../core/dingtalk-side';
import type { ProxyResult } from '../../handlers/aws/callback';
import { PROCESS_INDEX, TIME_INDEX, TYPE_INDEX } from '../../providers/aws/dynamodb-item';
import { DEV_CREDENTIALS } from '../../providers/local/dev-credentials';
import { ensureEventTable, ensureRecoverInboxTable } from '../../providers/local/events-table';
import { LOCAL_AWS_CREDENTIALS } from '../../providers/local/local-dynamodb';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { scheduledApiCalls, scheduledApiCallsReport } from '../../core/quota';
import { STREAM_LEASES } from '../../core/stream-lease';
import { invokeBundle, zipEntries } from '../../testkit/bundle';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { approvalItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { FakeSsm } from '../../testkit/fake-ssm';
import { eventText, loadJson, SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { startWebhookReceiver, TEST_WEBHOOK_SECRET } from '../../testkit/webhook-receiver';
import { AWS_TEST_PACKAGE, packageService, type PackagedService } from '../../testkit/serverless';
import { httpApiEvent } from '../../testkit/gateway-events';
import { INSPECTOR_MARKER } from '../../testkit/inspector';

interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown;
  Condition?: unknown;
}

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Condition?: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
  Parameters: Record<string, { Type: string; Default: string }>;
  Conditions: Record<string, unknown>;
  Outputs: Record<string, { Value: unknown }>;
}

const TABLE_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/dingtalk-callback-test-events' };
const STREAM = { 'Fn::If': ['CreateEventsTable', { 'Fn::GetAtt': ['EventsTable', 'StreamArn'] }, { Ref: 'ExistingEventsTableStreamArn' }] };

/** The schedule of the function's rule in a compiled template, when the rule is on. */
function enabledRate(template: Template, fn: 'Recover' | 'Stream'): string | undefined {
  const rule = Object.values(template.Resources).find((candidate) => candidate.Type === 'AWS::Events::Rule' && JSON.stringify(candidate.Properties.Targets).includes(`"${fn}LambdaFunction"`));
  return rule?.Properties.State === 'ENABLED' ? String(rule.Properties.ScheduleExpression) : undefined;
}

/** The schedules of the compiled template's rules that are on. */
const templateSchedules = (template: Template) => ({ recover: enabledRate(template, 'Recover'), stream: enabledRate(template, 'Stream') });

/** What the compiled template's schedules that are on spend of DingTalk's server-API calls a month. */
const templateApiCalls = (template: Template) => scheduledApiCalls(templateSchedules(template));

describe('serverless.aws.yml, packaged for real', function () {
  this.timeout(120_000);
  let packaged: PackagedService;
  let template: Template;
  const resource = (type: string) => Object.values(template.Resources).filter((candidate) => candidate.Type === type);
  const ruleOf = (fn: string) => resource('AWS::Events::Rule').find((rule) => JSON.stringify(rule.Properties.Targets).includes(`"${fn}LambdaFunction"`));

  before(async function () {
    packaged = await packageService('serverless.aws.yml', AWS_TEST_PACKAGE);
    template = await packaged.json<Template>('cloudformation-template-update-stack.json');
  });
  after(async function () {
    await packaged?.remove();
  });

  describe('the zip', function () {
    it('holds the bundle alone, minified, under 500 KB', async function () {
      const entries = zipEntries(packaged.zip);
      expect(entries.map((entry) => entry.name)).to.deep.equal(['handlers/aws/callback.js']);
      expect(statSync(packaged.zip).size).to.be.lessThan(500 * 1024);
      const bundle = new AdmZip(packaged.zip).readAsText('handlers/aws/callback.js');
      // Minified: no indentation, and few lines for hundreds of kilobytes.
      expect(bundle.split('\n').length).to.be.lessThan(entries[0]!.size / 1000);
      expect(bundle).not.to.include(DEV_CREDENTIALS.DINGTALK_AES_KEY);
    });

    it("holds no AWS SDK in any function (the one small client, credentials from the environment only), and no inspector", function () {
      for (const name of ['callback', 'forward', 'recover', 'stream']) {
        const bundle = new AdmZip(packaged.zips[name]!).readAsText(`handlers/aws/${name}.js`);
        expect(bundle, name).to.include('AWS_SECRET_ACCESS_KEY');
        expect(bundle, name).to.include('amazonaws.com.cn');
        // Nor the inspector page of npm start (inspector/), nor its server.
        for (const marker of ['@smithy', 'defaultProvider', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'ConditionalCheckFailedException(', 'middlewareStack', INSPECTOR_MARKER, 'require-trusted-types-for']) {
          expect(bundle, `${name}: ${marker}`).not.to.include(marker);
        }
      }
    });

    it('leaves nothing in the temporary folder: the folders serverless-esbuild zips through are deleted', function () {
      // testkit/serverless.ts gives the run `.tmp` of its folder as TMPDIR, with tsx's cache linked in.
      expect(readdirSync(join(packaged.dir, '.tmp')).filter((name) => !name.startsWith('tsx-'))).to.deep.equal([]);
    });

    describe('loaded in a fresh node process', function () {
      let dynamo: TestDynamoDb;
      let ssm: FakeSsm;
      before(async function () {
        dynamo = await startTestDynamoDb();
        await ensureEventTable(dynamo.client, 'events');
        ssm = await new FakeSsm().start();
      });
      after(async function () {
        dynamo.client.destroy();
        await dynamo.server.close();
        await ssm.stop();
      });

      const lambdaEnv = () => ({
        EVENTS_TABLE: 'events',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      });
      const pushEvent = (message: string) => httpApiEvent(sealPush(SAMPLE_SETTINGS, message, SAMPLE_OWNER));

      it('answers a push and stores it, with settings from the environment', async function () {
        const text = eventText('bpms_task_change');
        const answer = await invokeBundle(packaged.zip, { entry: 'handlers/aws/callback.js', event: pushEvent(text), env: { ...lambdaEnv(), ...SAMPLE_ENV } });
        expect(answer.error).to.equal(undefined);
        const response = answer.response as ProxyResult;
        expect(response.statusCode).to.equal(200);
        expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
        const [record] = (await new DynamoDbEventStore({ tableName: 'events', client: dynamo.client }).list({ eventType: 'bpms_task_change' })).records;
        expect(record?.payload).to.equal(text);
        const log = JSON.parse(answer.stdout.trim()) as Record<string, unknown>;
        expect(log).to.include({ msg: 'push', outcome: 'created', status: 200, id: record?.id });
        expect(answer.stdout).not.to.include(SAMPLE_ENV.DINGTALK_TOKEN);
      });

      it('answers a push with settings read from SSM', async function () {
        ssm.parameters.set('/dingtalk-callback/test/token', SAMPLE_ENV.DINGTALK_TOKEN);
        ssm.parameters.set('/dingtalk-callback/test/aes-key', SAMPLE_ENV.DINGTALK_AES_KEY);
        ssm.parameters.set('/dingtalk-callback/test/owner-key', SAMPLE_ENV.DINGTALK_OWNER_KEY);
        const env = { ...lambdaEnv(), DINGTALK_SSM_PREFIX: '/dingtalk-callback/test', AWS_ENDPOINT_URL_SSM: ssm.endpoint };
        const answer = await invokeBundle(packaged.zip, { entry: 'handlers/aws/callback.js', event: pushEvent(eventText('user_add_org')), env });
        expect(answer.error).to.equal(undefined);
        expect(openReply(SAMPLE_SETTINGS, (answer.response as ProxyResult).body, SAMPLE_OWNER)).to.equal('success');
        expect(ssm.requests).to.deep.equal([{ Names: ['token', 'aes-key', 'owner-key'].map((name) => `/dingtalk-callback/test/${name}`), WithDecryption: true }]);
      });
    });
  });

  describe('the CloudFormation template', function () {
    it('defines the events table: keyed on id, three keys-only indexes sorted on listKey, on demand, backed up, encrypted, retained', function () {
      const table = template.Resources.EventsTable;
      const properties = table!.Properties;
      expect(properties.TableName).to.equal('dingtalk-callback-test-events');
      expect(properties.KeySchema).to.deep.equal([{ AttributeName: 'id', KeyType: 'HASH' }]);
      const indexes = properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: { ProjectionType: string } }[];
      expect(indexes.map((index) => [index.IndexName, index.KeySchema, index.Projection.ProjectionType])).to.deep.equal([
        [TIME_INDEX, [{ AttributeName: 'receivedMonth', KeyType: 'HASH' }, { AttributeName: 'listKey', KeyType: 'RANGE' }], 'KEYS_ONLY'],
        [TYPE_INDEX, [{ AttributeName: 'eventType', KeyType: 'HASH' }, { AttributeName: 'listKey', KeyType: 'RANGE' }], 'KEYS_ONLY'],
        [PROCESS_INDEX, [{ AttributeName: 'processInstanceId', KeyType: 'HASH' }, { AttributeName: 'listKey', KeyType: 'RANGE' }], 'INCLUDE'],
      ]);
      expect(properties.BillingMode).to.equal('PAY_PER_REQUEST');
      expect(properties.PointInTimeRecoverySpecification).to.deep.equal({ PointInTimeRecoveryEnabled: true });
      expect(properties.SSESpecification).to.deep.equal({ SSEEnabled: true });
      expect([table!.DeletionPolicy, table!.UpdateReplacePolicy]).to.deep.equal(['Retain', 'Retain']);
    });

    it('creates the table unless a retained one is adopted: by default the stack owns it', function () {
      expect(template.Resources.EventsTable!.Condition).to.equal('CreateEventsTable');
      expect(template.Conditions.CreateEventsTable).to.deep.equal({ 'Fn::Equals': [{ Ref: 'ExistingEventsTableStreamArn' }, ''] });
      expect(template.Parameters.ExistingEventsTableStreamArn).to.deep.include({ Type: 'String', Default: '' });
      expect(template.Outputs.EventsTableName!.Value).to.equal('dingtalk-callback-test-events');
    });

    it('bounds a flood: the HTTP API throttles to 50 requests a second (bursts of 100), at most 20 callbacks run at once', function () {
      const [stage] = resource('AWS::ApiGatewayV2::Stage');
      expect(stage!.Properties.DefaultRouteSettings).to.deep.equal({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
      expect(template.Resources.CallbackLambdaFunction!.Properties.ReservedConcurrentExecutions).to.deep.equal({ 'Fn::If': ['HasReservedConcurrency', { Ref: 'CallbackReservedConcurrency' }, { Ref: 'AWS::NoValue' }] });
      expect(template.Parameters.CallbackReservedConcurrency!.Default).to.equal('20');
      expect(template.Conditions.HasReservedConcurrency).to.deep.equal({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'CallbackReservedConcurrency' }, 'none'] }] });
    });

    it('runs the bundle on nodejs22.x, pointed at the table and the stage SSM prefix', async function () {
      const fn = template.Resources.CallbackLambdaFunction;
      expect(fn!.Properties).to.include({ Runtime: 'nodejs22.x', Handler: 'handlers/aws/callback.handler' });
      expect(fn!.Properties.Environment).to.deep.equal({ Variables: { EVENTS_TABLE: 'dingtalk-callback-test-events', DINGTALK_SSM_PREFIX: '/dingtalk-callback/test' } });
      const state = await packaged.json<{ service: { provider: { region: string; stage: string } } }>('serverless-state.json');
      expect(state.service.provider).to.include({ region: 'eu-central-1', stage: 'test' });
    });

    it('routes every method of /dingtalk to it (it answers all but POST with 405), and keeps its logs 30 days', function () {
      expect(resource('AWS::ApiGatewayV2::Route').map((route) => route.Properties.RouteKey)).to.deep.equal(['ANY /dingtalk']);
      expect(resource('AWS::Logs::LogGroup').map((group) => group.Properties.RetentionInDays)).to.deep.equal([30, 30, 30, 30]);
    });

    describe('IAM', function () {
      const statements = () => {
        const role = template.Resources.IamRoleLambdaExecution;
        const [policy] = role!.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
        return policy!.PolicyDocument.Statement;
      };
      const actions = () => statements().flatMap((statement) => statement.Action);
      const grant = (action: string) => statements().filter((statement) => statement.Action.includes(action));

      it('grants no wildcard action and nothing but Allow', function () {
        expect(actions().filter((action) => action.includes('*'))).to.deep.equal([]);
        expect(statements().map((statement) => statement.Effect)).to.satisfy((effects: string[]) => effects.every((effect) => effect === 'Allow'));
      });

      it('lets the function write to its table only, and do nothing else there', function () {
        expect(actions().filter((action) => action.startsWith('dynamodb:'))).to.deep.equal(['dynamodb:PutItem']);
        // By name: the same grant holds for a table the stack adopted.
        expect(grant('dynamodb:PutItem').map((statement) => statement.Resource)).to.deep.equal([TABLE_ARN]);
      });

      it('lets it read the three parameters under its prefix, and decrypt them through SSM only', function () {
        const [ssm] = grant('ssm:GetParameters');
        expect(ssm!.Action).to.deep.equal(['ssm:GetParameters']);
        expect(JSON.stringify(ssm!.Resource).match(/parameter[^"]*/g)).to.deep.equal(['token', 'aes-key', 'owner-key'].map((name) => `parameter/dingtalk-callback/test/${name}`));
        const [kms] = grant('kms:Decrypt');
        expect(kms!.Action).to.deep.equal(['kms:Decrypt']);
        expect(kms!.Condition).to.deep.equal({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } });
      });
    });

    describe('the forward function', function () {
      const forwardStatements = () => (template.Resources.ForwardRole!.Properties.Policies as { PolicyDocument: { Statement: (Statement | { 'Fn::If': [string, Statement, unknown] })[] } }[])[0]!.PolicyDocument.Statement;

      it('reads the new images of the table stream, inserts only, reporting partial failures, retried three times, then to the SQS queue', function () {
        expect(template.Resources.EventsTable!.Properties.StreamSpecification).to.deep.equal({ StreamViewType: 'NEW_IMAGE' });
        const [mapping] = resource('AWS::Lambda::EventSourceMapping');
        expect(mapping!.Properties).to.deep.include({
          EventSourceArn: { 'Fn::GetAtt': ['EventsTable', 'StreamArn'] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          MaximumRetryAttempts: 3,
          FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] } } },
        });
        expect(resource('AWS::SQS::Queue')).to.have.length(1);
        const fn = template.Resources.ForwardLambdaFunction!;
        expect(fn.Properties).to.deep.include({ Handler: 'handlers/aws/forward.handler', Role: { 'Fn::GetAtt': ['ForwardRole', 'Arn'] } });
        expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).to.deep.include({ DINGTALK_DEAD_LETTER_QUEUE_URL: { Ref: 'ForwardDeadLetterQueue' } });
      });

      it('runs under a role of its own that reads the stream, sends to its queue, reads its secret and puts to its bus only', function () {
        const statements = forwardStatements();
        const plain = statements.filter((statement): statement is Statement => 'Action' in statement);
        expect(plain.flatMap((statement) => statement.Action).filter((action) => action.includes('*'))).to.deep.equal([]);
        const byAction = (action: string) => plain.find((statement) => statement.Action.includes(action))!.Resource;
        expect(byAction('dynamodb:GetRecords')).to.deep.equal(STREAM);
        expect(plain.flatMap((statement) => statement.Action).filter((action) => action.startsWith('dynamodb:')).sort()).to.deep.equal(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams']);
        expect(byAction('sqs:SendMessage')).to.deep.equal({ 'Fn::GetAtt': ['ForwardDeadLetterQueue', 'Arn'] });
        expect(JSON.stringify(byAction('ssm:GetParameters'))).to.include('parameter/dingtalk-callback/test/forward-secret');
        const [condition, bus] = (statements.find((statement) => 'Fn::If' in statement) as { 'Fn::If': [string, Statement, unknown] })['Fn::If'];
        expect(condition).to.equal('HasEventBus');
        expect(bus.Action).to.deep.equal(['events:PutEvents']);
        expect(JSON.stringify(bus.Resource)).to.include(':event-bus/');
      });

      it('leaves the callback role without the stream or the queue', function () {
        const shared = JSON.stringify(template.Resources.IamRoleLambdaExecution);
        expect(shared).not.to.include('StreamArn');
        expect(shared).not.to.include('sqs:');
      });

      it('is a zip of its own, without the callback, and delivers the documented stream batch from a fresh process', async function () {
        expect(zipEntries(packaged.zips.forward!).map((entry) => entry.name)).to.deep.equal(['handlers/aws/forward.js']);
        expect(zipEntries(packaged.zip).map((entry) => entry.name)).to.deep.equal(['handlers/aws/callback.js']);
        const receiver = await startWebhookReceiver();
        try {
          const env = {
            DINGTALK_FORWARD_URL: receiver.url,
            DINGTALK_FORWARD_SECRET: TEST_WEBHOOK_SECRET,
            DINGTALK_DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:9/unused',
            AWS_REGION: 'eu-central-1',
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          };
          const answer = await invokeBundle(packaged.zips.forward!, { entry: 'handlers/aws/forward.js', event: loadJson('dynamodb-stream-batch'), env });
          expect(answer.error).to.equal(undefined);
          expect(answer.response).to.deep.equal({ batchItemFailures: [] });
          expect(receiver.deliveries.map((delivery) => delivery.body.type)).to.deep.equal(['bpms_instance_change']);
          expect(answer.stdout).not.to.include('请假');
        } finally {
          await receiver.close();
        }
      });
    });
  });

  describe('the recover function', function () {
    const statements = () => (template.Resources.RecoverRole!.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[])[0]!.PolicyDocument.Statement;
    const grants = (prefix: string) => statements().filter((statement) => statement.Action.some((action) => action.startsWith(prefix)));

    it('has a zip of its own holding its bundle alone', function () {
      const zip = packaged.zip.replace(/callback\.zip$/, 'recover.zip');
      expect(zipEntries(zip).map((entry) => entry.name)).to.deep.equal(['handlers/aws/recover.js']);
    });

    it('yields a bundle that a fresh node process runs a pass with, on the schedule event, settings from SSM', async function () {
      const dynamo = await startTestDynamoDb();
      const ssm = await new FakeSsm().start();
      const dingtalk = await new FakeDingTalk().start();
      try {
        await ensureEventTable(dynamo.client, 'events');
        await ensureRecoverInboxTable(dynamo.client, 'inbox');
        ssm.parameters.set('/dingtalk-callback/test/app-key', dingtalk.appKey);
        ssm.parameters.set('/dingtalk-callback/test/app-secret', dingtalk.appSecret);
        ssm.parameters.set('/dingtalk-callback/test/owner-key', dingtalk.appKey);
        dingtalk.failed.push(approvalItem(1, dingtalk.corpId), approvalItem(2, dingtalk.corpId));
        const env = {
          EVENTS_TABLE: 'events', RECOVER_INBOX_TABLE: 'inbox', DINGTALK_SSM_PREFIX: '/dingtalk-callback/test', DINGTALK_API_BASE: dingtalk.url,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_SSM: ssm.endpoint, AWS_REGION: 'eu-central-1',
          AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        };
        const schedule = { version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-27T22:50:00Z', detail: {} };
        const answer = await invokeBundle(packaged.zip.replace(/callback\.zip$/, 'recover.zip'), { entry: 'handlers/aws/recover.js', event: schedule, env });
        expect(answer.error).to.equal(undefined);
        expect(answer.response).to.deep.equal({ pages: 1, resumed: 0, items: 2, created: 2, duplicate: 0, handshakes: 0, setAside: 0 });
        expect(JSON.parse(answer.logs[0]!)).to.include({ msg: 'recover', outcome: 'done' });
        expect(answer.stdout).not.to.contain(dingtalk.appSecret);
        expect((await new DynamoDbEventStore({ tableName: 'events', client: dynamo.client }).list({ processInstanceId: 'proc-000002' })).records).to.have.length(1);
      } finally {
        await dingtalk.stop();
        await ssm.stop();
        dynamo.client.destroy();
        await dynamo.server.close();
      }
    });

    it('runs every hour (720 failed-list calls a month) on its own role, pointed at the inbox table and the stage SSM prefix', function () {
      const fn = template.Resources.RecoverLambdaFunction!;
      expect(fn.Properties).to.include({ Runtime: 'nodejs22.x', Handler: 'handlers/aws/recover.handler', Timeout: 120 });
      expect(fn.Properties.Role).to.deep.equal({ 'Fn::GetAtt': ['RecoverRole', 'Arn'] });
      expect(fn.Properties.Environment).to.deep.equal({ Variables: { EVENTS_TABLE: 'dingtalk-callback-test-events', DINGTALK_SSM_PREFIX: '/dingtalk-callback/test', RECOVER_INBOX_TABLE: 'dingtalk-callback-test-recover-inbox', DINGTALK_API_BASE: 'https://oapi.dingtalk.com' } });
      expect(ruleOf('Recover')!.Properties).to.include({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' });
      expect(template.Resources.RecoverInboxTable!.Properties.KeySchema).to.deep.equal([{ AttributeName: 'source', KeyType: 'HASH' }, { AttributeName: 'replyId', KeyType: 'RANGE' }]);
    });

    it('may write events, read the suite ticket and the type index, use the inbox, and read its four parameters: nothing else', function () {
      expect(statements().flatMap((statement) => statement.Action).filter((action) => action.includes('*'))).to.deep.equal([]);
      expect(grants('dynamodb:').map((statement) => [statement.Action, statement.Resource])).to.deep.equal([
        [['dynamodb:PutItem'], TABLE_ARN],
        [['dynamodb:Query'], { 'Fn::Sub': `${TABLE_ARN['Fn::Sub']}/index/byEventType` }],
        [['dynamodb:BatchGetItem', 'dynamodb:GetItem'], TABLE_ARN],
        [['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:DeleteItem'], { 'Fn::GetAtt': ['RecoverInboxTable', 'Arn'] }],
      ]);
      expect(JSON.stringify(grants('ssm:')[0]!.Resource).match(/parameter[^"]*/g)).to.deep.equal(['app-key', 'app-secret', 'owner-key', 'suite-secret'].map((name) => `parameter/dingtalk-callback/test/${name}`));
      expect(grants('logs:')[0]!.Action).to.deep.equal(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(statements().flatMap((statement) => statement.Action).sort()).to.deep.equal(
        ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Query', 'kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 'ssm:GetParameters'],
      );
    });
  });

  it("spends 720 of DingTalk's 5,000 server-API calls a month by default, recover's, and says so at packaging, Stream off", function () {
    expect(templateApiCalls(template)).to.deep.equal({ recover: 720, streamOpens: 0, total: 720, share: 14 });
    // The lines core/quota.ts words (test/core/quota.test.ts) for the template's own schedules.
    expect(packaged.output).to.contain(scheduledApiCallsReport('aws', templateSchedules(template)).join('\n'));
    expect(packaged.output).to.contain('an app in Stream mode receives nothing here (--param="streamEnabled=true" holds one)');
  });

  describe('the stream function', function () {
    const statements = () => (template.Resources.StreamRole!.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[])[0]!.PolicyDocument.Statement;

    it('has a zip of its own holding its bundle alone', function () {
      expect(zipEntries(packaged.zips.stream!).map((entry) => entry.name)).to.deep.equal(['handlers/aws/stream.js']);
    });

    it('is scheduled every 12 minutes for a 14-minute lease within 15, off by default, at 128 MB, on its own role, pointed at the table and the stage SSM prefix', function () {
      const fn = template.Resources.StreamLambdaFunction!;
      expect(fn.Properties).to.include({ Runtime: 'nodejs22.x', Handler: 'handlers/aws/stream.handler', Timeout: STREAM_LEASES.aws.timeoutSeconds, MemorySize: 128 });
      expect(fn.Properties.Role).to.deep.equal({ 'Fn::GetAtt': ['StreamRole', 'Arn'] });
      expect(fn.Properties.Environment).to.deep.equal({
        Variables: { EVENTS_TABLE: 'dingtalk-callback-test-events', DINGTALK_SSM_PREFIX: '/dingtalk-callback/test', DINGTALK_STREAM_LEASE_SECONDS: String(STREAM_LEASES.aws.leaseSeconds), DINGTALK_OPENAPI_ENDPOINT: 'https://api.dingtalk.com' },
      });
      expect(ruleOf('Stream')!.Properties).to.include({ ScheduleExpression: `rate(${STREAM_LEASES.aws.everySeconds / 60} minutes)`, State: 'DISABLED' });
    });

    it('may put events and read the app key and secret under its prefix, decrypting through SSM only: nothing else', function () {
      const grants = (prefix: string) => statements().filter((statement) => statement.Action.some((action) => action.startsWith(prefix)));
      expect(grants('dynamodb:').map((statement) => [statement.Action, statement.Resource])).to.deep.equal([[['dynamodb:PutItem'], TABLE_ARN]]);
      expect(JSON.stringify(grants('ssm:')[0]!.Resource).match(/parameter[^"]*/g)).to.deep.equal(['app-key', 'app-secret', 'owner-key', 'suite-secret'].map((name) => `parameter/dingtalk-callback/test/${name}`));
      expect(grants('kms:')[0]!.Condition).to.deep.equal({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } });
      expect(JSON.stringify(grants('logs:')[0]!.Resource)).to.contain('/aws/lambda/dingtalk-callback-${sls:stage}-stream:*'.replace('${sls:stage}', 'test'));
      expect(statements().flatMap((statement) => statement.Action).sort()).to.deep.equal(['dynamodb:PutItem', 'kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 'ssm:GetParameters']);
    });
  });
});

describe('serverless.aws.yml, packaged to adopt a retained table, with other limits, recover off and Stream on', function () {
  this.timeout(120_000);
  const streamArn = 'arn:aws:dynamodb:eu-central-1:123456789012:table/dingtalk-callback-test-events/stream/2026-01-01T00:00:00.000';
  let packaged: PackagedService;
  let template: Template;

  before(async function () {
    const params = [`existingEventsTableStreamArn=${streamArn}`, 'reservedConcurrency=none', 'throttleRateLimit=5', 'throttleBurstLimit=10', 'recoverEnabled=false', 'recoverSchedule=rate(2 hours)', 'streamEnabled=true'];
    packaged = await packageService('serverless.aws.yml', { args: ['--stage', 'test', '--region', 'eu-central-1', ...params.map((param) => `--param=${param}`)] });
    template = await packaged.json<Template>('cloudformation-template-update-stack.json');
  });
  after(async function () {
    await packaged?.remove();
  });

  it('leaves the table out of the stack: its condition is false, and nothing refers to it but under that condition', function () {
    expect(template.Parameters.ExistingEventsTableStreamArn!.Default).to.equal(streamArn);
    expect(template.Resources.EventsTable!.Condition).to.equal('CreateEventsTable');
    const unguarded = JSON.stringify({ ...template.Resources, EventsTable: undefined, ForwardRole: undefined });
    expect(unguarded).not.to.include('"EventsTable"');
    expect(JSON.stringify(template.Resources.ForwardRole)).to.include(JSON.stringify(STREAM));
  });

  it("reads the adopted table's stream and writes to it by name", function () {
    const [mapping] = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mapping!.Properties.EventSourceArn).to.equal(streamArn);
    expect(JSON.stringify(template.Resources.IamRoleLambdaExecution)).to.include(JSON.stringify(TABLE_ARN));
    expect((template.Resources.CallbackLambdaFunction!.Properties.Environment as { Variables: Record<string, string> }).Variables.EVENTS_TABLE).to.equal('dingtalk-callback-test-events');
  });

  it('takes the limits from params: no reserved concurrency, 5 requests a second', function () {
    expect(template.Parameters.CallbackReservedConcurrency!.Default).to.equal('none');
    const [stage] = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage');
    // --param values are strings; CloudFormation reads numbers from them.
    expect(stage!.Properties.DefaultRouteSettings).to.deep.equal({ ThrottlingRateLimit: '5', ThrottlingBurstLimit: '10' });
  });

  it("deploys an app in Stream mode as recommended (recoverEnabled=false, streamEnabled=true): 3,600 opens, and says so past half the quota", function () {
    const rules = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Events::Rule');
    expect(rules.map((rule) => [rule.Properties.ScheduleExpression, rule.Properties.State])).to.deep.equal([['rate(2 hours)', 'DISABLED'], ['rate(12 minutes)', 'ENABLED']]);
    expect(templateApiCalls(template)).to.deep.equal({ recover: 0, streamOpens: 3600, total: 3600, share: 72 });
    expect(packaged.output).to.contain("DingTalk server-API calls a month on these schedules: 3,600, 72% of the standard edition's 5,000");
    expect(packaged.output).to.contain("  recover: off, so DingTalk's failed list is not pulled; `dingtalk-callback recover` pulls it by hand\n");
    expect(packaged.output).to.contain('  stream rate(12 minutes): 3,600 connections/open calls, counted as DingTalk may count them\n');
    expect(packaged.output).to.contain("  that is more than half the quota, which the organisation's other integrations share: each run of the stream function opens one connection");
  });
});
