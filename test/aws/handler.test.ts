import { expect } from 'chai';
import type { CallbackRequest } from '../../core/callback';
import { ConfigError } from '../../core/errors';
import type { PushLog } from '../../core/log';
import { openReply } from '../../core/dingtalk-side';
import { createHandler, type AwsHandlerDeps, type ProxyResult } from '../../handlers/aws/callback';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { ensureEventTable } from '../../providers/local/events-table';
import { localDynamoDbClient } from '../../providers/local/local-dynamodb';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { FakeSsm } from '../../testkit/fake-ssm';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { eventText, loadJson, SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { freePort } from '../../testkit/ports';
import { pushRequest } from '../../testkit/push';
import { httpApiEvent, restApiEvent } from '../../testkit/gateway-events';

/** The real API Gateway fixtures, carrying `request` instead of their own push. */
const replyOf = (result: ProxyResult) => openReply(SAMPLE_SETTINGS, result.body, SAMPLE_OWNER);

describe('handlers/aws', function () {
  let dynamo: TestDynamoDb;
  let store: DynamoDbEventStore;
  let logs: PushLog[];
  let tables = 0;
  const env = () => ({ ...SAMPLE_ENV, EVENTS_TABLE: store.tableName });
  const handlerWith = (options: AwsHandlerDeps = {}) => createHandler({ env: env(), dynamodb: dynamo.client, log: (entry) => logs.push(entry), ...options });

  before(async function () {
    dynamo = await startTestDynamoDb();
  });
  after(async function () {
    dynamo.client.destroy();
    await dynamo.server.close();
  });
  beforeEach(async function () {
    logs = [];
    const tableName = `events-${++tables}`;
    await ensureEventTable(dynamo.client, tableName);
    store = new DynamoDbEventStore({ tableName, client: dynamo.client });
  });

  describe('API Gateway events', function () {
    it('answers the published sample in the REST API (v1) fixture', async function () {
      const result = await handlerWith()(loadJson('apigw-rest-v1'));
      expect(result.statusCode).to.equal(200);
      expect(result.isBase64Encoded).to.equal(false);
      expect(result.headers['content-type']).to.match(/^application\/json/);
      expect(replyOf(result)).to.equal('success');
      expect(logs[0]).to.include({ requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef', outcome: 'check' });
    });

    it('answers the published sample in the HTTP API (v2) fixture, whose body is base64', async function () {
      const result = await handlerWith()(loadJson('apigw-http-v2'));
      expect(replyOf(result)).to.equal('success');
      expect(logs[0]).to.include({ requestId: 'OsyJdG8FSQ0EKhQ=', outcome: 'check' });
    });

    it("logs Lambda's own request id when the context has one", async function () {
      await handlerWith()(loadJson('apigw-http-v2'), { awsRequestId: '3e1a7b52-1f7c-4c4e-9d2f-0f6c2a1b9e77' });
      expect(logs[0]).to.include({ requestId: '3e1a7b52-1f7c-4c4e-9d2f-0f6c2a1b9e77', outcome: 'check' });
    });

    for (const [name, toEvent] of [
      ['a REST API (v1) event', (request: CallbackRequest) => restApiEvent(request)],
      ['a REST API (v1) event with a base64 body', (request: CallbackRequest) => restApiEvent(request, true)],
      ['an HTTP API (v2) event with a base64 body', (request: CallbackRequest) => httpApiEvent(request, true)],
      ['an HTTP API (v2) event with a text body', (request: CallbackRequest) => httpApiEvent(request, false)],
    ] as const) {
      it(`stores an approval with a Chinese title from ${name}, verbatim`, async function () {
        const text = eventText('bpms_instance_change');
        const result = await handlerWith()(toEvent(pushRequest(text)));
        expect(replyOf(result)).to.equal('success');
        const [record] = (await store.list({ eventType: 'bpms_instance_change' })).records;
        expect(record?.payload).to.equal(text);
        expect(record?.processInstanceId).to.equal('a171de6c-8bb1-4a3e-b2d4-5f1e6c8d9e01');
      });
    }

    it("answers the suite URL checks with their Random (the creation check sealed for DingTalk's placeholder), storing nothing", async function () {
      const placeholder = 'suite4xxxxxxxxxxxxxxx';
      const create = await handlerWith()(httpApiEvent(pushRequest(eventText('check_create_suite_url', { Random: 'r4nd0m-create' }), SAMPLE_SETTINGS, placeholder)));
      expect(openReply(SAMPLE_SETTINGS, create.body, placeholder)).to.equal('r4nd0m-create');
      const update = await handlerWith()(restApiEvent(pushRequest(eventText('check_create_suite_url', { EventType: 'check_update_suite_url', Random: 'r4nd0m-update', TestSuiteKey: undefined }))));
      expect(replyOf(update)).to.equal('r4nd0m-update');
      expect(logs.map((entry) => entry.outcome)).to.deep.equal(['check', 'check']);
      expect((await store.list()).records).to.deep.equal([]);
    });

    it('stores each row of a SyncHTTP push, once, and keeps the ticket', async function () {
      const rows = [syncRow('suite_ticket', { ticket: 'aws-ticket', modified: 1_700_000_000_000 }), syncRow('org_dept_create', { bizId: 'aws-dept' })];
      const handler = handlerWith();
      for (let n = 0; n < 2; n++) expect(replyOf(await handler(httpApiEvent(pushRequest(syncPush(rows)))))).to.equal('success');
      expect(logs.map((entry) => entry.rows)).to.deep.equal([{ created: 2, duplicate: 0, refused: 0 }, { created: 0, duplicate: 2, refused: 0 }]);
      expect((await store.list()).records.map((record) => record.source)).to.deep.equal(['sync', 'sync']);
      expect((await store.suiteTicket(SAMPLE_OWNER))?.ticket).to.equal('aws-ticket');
    });

    it('answers a redelivery with success and keeps one record', async function () {
      const handler = handlerWith();
      const text = eventText('user_add_org');
      for (const event of [restApiEvent(pushRequest(text)), httpApiEvent(pushRequest(text))]) expect(replyOf(await handler(event))).to.equal('success');
      expect((await store.list()).records).to.have.length(1);
      expect(logs.map((entry) => entry.outcome)).to.deep.equal(['created', 'duplicate']);
    });

    it('reads the first of repeated query parameters, in either version', async function () {
      const push = pushRequest(eventText('suite_ticket'));
      const query = push.query as Record<string, string>;
      const rest = restApiEvent(push);
      rest.multiValueQueryStringParameters = { ...(rest.multiValueQueryStringParameters as object), signature: [query.signature, 'f'.repeat(40)] };
      rest.queryStringParameters = { ...query, signature: 'f'.repeat(40) };
      expect((await handlerWith()(rest)).statusCode).to.equal(200);
      const http = httpApiEvent(push);
      http.rawQueryString = `${http.rawQueryString as string}&signature=${'f'.repeat(40)}`;
      expect((await handlerWith()(http)).statusCode).to.equal(200);
    });

    it('reads the msg_signature / timeStamp spelling from the raw query string', async function () {
      const push = pushRequest(eventText('tmp_auth_code'));
      const { signature, timestamp, nonce } = push.query as Record<string, string>;
      const event = { ...httpApiEvent(push), rawQueryString: `msg_signature=${signature}&timeStamp=${timestamp}&nonce=${nonce}` };
      expect(replyOf(await handlerWith()(event))).to.equal('success');
    });

    it('passes the method on: a GET is a 405', async function () {
      const event = httpApiEvent(pushRequest(eventText('user_add_org')));
      const result = await handlerWith()({ ...event, requestContext: { ...(event.requestContext as object), http: { method: 'GET' } } });
      expect(result.statusCode).to.equal(405);
    });

    for (const [name, event] of [
      ['null', null],
      ['a string', 'POST /dingtalk'],
      ['an empty object', {}],
      ['a v2 event without requestContext.http', { version: '2.0', body: '{}' }],
      ['an Aliyun API Gateway event', { path: '/dingtalk', httpMethodName: 'POST', body: '{}' }],
    ] as const) {
      it(`answers 400 to ${name}, which is no API Gateway event`, async function () {
        const result = await handlerWith()(event, { awsRequestId: 'req-malformed' });
        expect(result.statusCode).to.equal(400);
        expect(JSON.parse(result.body)).to.deep.equal({ error: 'bad_request', message: 'not an API Gateway proxy event' });
        expect(logs).to.have.length(1);
        expect(logs[0]).to.include({ requestId: 'req-malformed', status: 400, outcome: 'rejected', error: 'bad_request', level: 'warn' });
      });
    }

    for (const [name, body] of [['a number', 42], ['an object', { encrypt: 'x' }]] as const) {
      it(`answers 400, not a crash, to a v2 event whose body is ${name}`, async function () {
        const result = await handlerWith()({ ...loadJson<object>('apigw-http-v2'), body, isBase64Encoded: false });
        expect(result.statusCode).to.equal(400);
        expect(JSON.parse(result.body)).to.include({ error: 'bad_request' });
      });
    }
  });

  describe('the store', function () {
    it('answers 503 when DynamoDB cannot be reached, so DingTalk retries', async function () {
      const down = localDynamoDbClient(`http://127.0.0.1:${await freePort()}`, 1);
      const result = await handlerWith({ dynamodb: down })(httpApiEvent(pushRequest(eventText('user_add_org'))));
      expect(result.statusCode).to.equal(503);
      expect(JSON.parse(result.body)).to.include({ error: 'store_unavailable' });
      expect(logs[0]).to.include({ outcome: 'store_failed', status: 503 });
    });

    it('stores a 300-record attendance push', async function () {
      const rows = Array.from({ length: 300 }, (_, i) => ({ userId: `user${i}`, address: `杭州市余杭区文一西路${i}号`, checkTime: 1_700_000_000_000 + i }));
      const text = JSON.stringify({ EventType: 'attendance_check_record', DataList: rows });
      expect(replyOf(await handlerWith()(httpApiEvent(pushRequest(text))))).to.equal('success');
      expect((await store.list({ eventType: 'attendance_check_record' })).records[0]?.payload).to.equal(text);
    });
  });

  describe('settings', function () {
    it('fails every invocation with an error naming a missing variable, and never answers', async function () {
      const handler = handlerWith({ env: { ...SAMPLE_ENV } });
      for (let attempt = 0; attempt < 2; attempt++) {
        const failure = await handler(loadJson('apigw-http-v2')).catch((error: unknown) => error);
        expect(failure).to.be.instanceOf(ConfigError);
        expect((failure as ConfigError).variable).to.equal('EVENTS_TABLE');
      }
      const badKey = await handlerWith({ env: { ...env(), DINGTALK_AES_KEY: 'short' } })(loadJson('apigw-http-v2')).catch((error: unknown) => error);
      expect((badKey as ConfigError).variable).to.equal('DINGTALK_AES_KEY');
    });

    it('names every missing or invalid variable at once, the DingTalk and the DynamoDB ones', async function () {
      const failure = await handlerWith({ env: { DINGTALK_TOKEN: 'token', DYNAMODB_PUT_DEADLINE_MS: '0' } })(loadJson('apigw-http-v2')).catch((error: unknown) => error);
      expect((failure as ConfigError).problems.map((problem) => problem.variable)).to.deep.equal(['DINGTALK_AES_KEY', 'DINGTALK_OWNER_KEY', 'EVENTS_TABLE', 'DYNAMODB_PUT_DEADLINE_MS']);
    });

    describe('from SSM', function () {
      let ssm: FakeSsm;
      beforeEach(async function () {
        ssm = await new FakeSsm().start();
      });
      afterEach(async function () {
        await ssm.stop();
      });
      const putSample = () => {
        ssm.parameters.set('/dingtalk-callback/prod/token', SAMPLE_ENV.DINGTALK_TOKEN);
        ssm.parameters.set('/dingtalk-callback/prod/aes-key', SAMPLE_ENV.DINGTALK_AES_KEY);
        ssm.parameters.set('/dingtalk-callback/prod/owner-key', SAMPLE_ENV.DINGTALK_OWNER_KEY);
      };
      const ssmEnv = () => ({ EVENTS_TABLE: store.tableName, DINGTALK_SSM_PREFIX: '/dingtalk-callback/prod', DINGTALK_TOKEN: 'ignored-when-ssm-is-used' });

      it('reads them once per container, however many pushes follow', async function () {
        putSample();
        const handler = handlerWith({ env: ssmEnv(), ssm: ssm.jsonClient() });
        for (const name of ['user_add_org', 'org_dept_create', 'chat_add_member']) {
          expect(replyOf(await handler(httpApiEvent(pushRequest(eventText(name)))))).to.equal('success');
        }
        expect(ssm.requests).to.have.length(1);
        expect(ssm.requests[0]?.WithDecryption).to.equal(true);
      });

      it('tries again on the next invocation after a failed read', async function () {
        const handler = handlerWith({ env: ssmEnv(), ssm: ssm.jsonClient() });
        const failure = await handler(loadJson('apigw-http-v2')).catch((error: unknown) => error);
        expect(failure).to.be.instanceOf(ConfigError);
        expect((failure as Error).message).to.include('/dingtalk-callback/prod/token');
        putSample();
        expect(replyOf(await handler(loadJson('apigw-http-v2')))).to.equal('success');
        expect(ssm.requests).to.have.length(2);
      });
    });
  });
});
