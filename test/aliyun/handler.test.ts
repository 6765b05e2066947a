import { expect } from 'chai';
import { ConfigError } from '../../core/errors';
import type { PushLog } from '../../core/log';
import { openReply, sealPush } from '../../core/dingtalk-side';
import { createHandler, type ApiGatewayResponse, type FcHttpHandler } from '../../handlers/aliyun/callback';
import type { FcContext } from '../../providers/aliyun/function-compute';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable } from '../../deploy/aliyun/tablestore-tables';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { eventText, loadJson, SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { startTablestoreServer, type LocalTablestore, type TablestoreCredentials } from '../../testkit/tablestore-server';
import { fcGatewayEvent } from '../../testkit/gateway-events';

const TABLE = 'dingtalk_events';
const CHECK_URL = loadJson('fc-apigw-check-url');
const CHECK_URL_BASE64 = loadJson('fc-apigw-check-url-base64');
const CONTEXT = loadJson<FcContext>('fc-context');
const ROLE_KEYS: TablestoreCredentials[] = [
  { accessKeyId: 'STS.first', secretAccessKey: 'first-secret', securityToken: 'first-token' },
  { accessKeyId: 'STS.second', secretAccessKey: 'second-secret', securityToken: 'second-token' },
];

/** The Function Compute context of an invocation whose role holds `keys`. */
function contextWith(keys: TablestoreCredentials): FcContext {
  return { ...CONTEXT, credentials: { accessKeyId: keys.accessKeyId, accessKeySecret: keys.secretAccessKey, securityToken: keys.securityToken } };
}

/** Invokes the handler as Function Compute does (event as a Buffer) and waits for its callback. */
function invoke(handler: FcHttpHandler, event: unknown, context: FcContext = contextWith(ROLE_KEYS[0]!)): Promise<ApiGatewayResponse> {
  const bytes = Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event));
  return new Promise((resolve, reject) => handler(bytes, context, (error, response) => (error ? reject(error) : resolve(response!))));
}

/** The API Gateway event of a push of `message` (an event's JSON text), plain or base64. */
function pushEvent(message: string, base64 = false): object {
  return fcGatewayEvent(sealPush(SAMPLE_SETTINGS, message, SAMPLE_OWNER), base64);
}

describe('handlers/aliyun', function () {
  let server: LocalTablestore;
  let env: Record<string, string>;
  let handler: FcHttpHandler;
  let store: TablestoreEventStore;
  const logs: PushLog[] = [];
  before(async function () {
    server = await startTablestoreServer({ credentials: ROLE_KEYS });
    const client = createTablestoreClient({ ...server.clientOptions });
    await ensureEventTable(client, TABLE);
    store = new TablestoreEventStore({ tableName: TABLE, client });
    env = { ...SAMPLE_ENV, EVENTS_TABLE: TABLE, TABLESTORE_ENDPOINT: server.endpoint, TABLESTORE_INSTANCE: server.instance };
    handler = createHandler({ env, log: (entry) => logs.push(entry) });
  });
  beforeEach(() => logs.splice(0));
  afterEach(() => server.recover());
  after(() => server.close());

  it('answers the real check_url event with the API Gateway response shape and an encrypted success', async function () {
    const response = await invoke(handler, CHECK_URL);
    expect(Object.keys(response).sort()).to.deep.equal(['body', 'headers', 'isBase64Encoded', 'statusCode']);
    expect(response).to.include({ isBase64Encoded: false, statusCode: 200 });
    expect(response.headers['content-type']).to.match(/^application\/json/);
    expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
  });

  it('decodes a base64 body', async function () {
    const response = await invoke(handler, CHECK_URL_BASE64);
    expect(response.statusCode).to.equal(200);
    expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
  });

  for (const base64 of [false, true]) {
    it(`stores a pushed event in Tablestore (${base64 ? 'base64' : 'plain'} body), once`, async function () {
      const message = eventText('bpms_instance_change', { processInstanceId: `proc-${base64}`, title: '张三的报销申请 🧾' });
      const first = await invoke(handler, pushEvent(message, base64));
      expect(first.statusCode).to.equal(200);
      expect(openReply(SAMPLE_SETTINGS, first.body, SAMPLE_OWNER)).to.equal('success');
      const again = await invoke(handler, pushEvent(message, base64));
      expect(again.statusCode).to.equal(200);
      const stored = (await store.list({ processInstanceId: `proc-${base64}` })).records;
      expect(stored).to.have.length(1);
      expect(stored[0]).to.include({ eventType: 'bpms_instance_change', ownerKey: SAMPLE_OWNER, payload: message });
    });
  }

  it("answers the suite URL checks with their Random (the creation check sealed for DingTalk's placeholder), storing nothing", async function () {
    const placeholder = 'suite4xxxxxxxxxxxxxxx';
    const create = await invoke(handler, fcGatewayEvent(sealPush(SAMPLE_SETTINGS, eventText('check_create_suite_url', { Random: 'r4nd0m-create' }), placeholder)));
    expect(openReply(SAMPLE_SETTINGS, create.body, placeholder)).to.equal('r4nd0m-create');
    const update = await invoke(handler, pushEvent(eventText('check_create_suite_url', { EventType: 'check_update_suite_url', Random: 'r4nd0m-update', TestSuiteKey: undefined })));
    expect(openReply(SAMPLE_SETTINGS, update.body, SAMPLE_OWNER)).to.equal('r4nd0m-update');
    expect(logs.map((entry) => entry.outcome)).to.deep.equal(['check', 'check']);
    expect((await store.list()).records.filter((record) => record.eventType.startsWith('check_'))).to.deep.equal([]);
  });

  it('stores each row of a SyncHTTP push through the handler, and keeps the ticket', async function () {
    const rows = [syncRow('suite_ticket', { ticket: 'fc-ticket', modified: 1_700_000_000_000 }), syncRow('org_dept_create', { bizId: 'fc-dept' })];
    const response = await invoke(handler, pushEvent(syncPush(rows)));
    expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
    expect(logs[0]?.rows).to.deep.equal({ created: 2, duplicate: 0, refused: 0 });
    expect((await store.suiteTicket(SAMPLE_OWNER))?.ticket).to.equal('fc-ticket');
  });

  it('answers 503, so DingTalk retries, when Tablestore is busy', async function () {
    server.failWith({ operations: ['PutRow'] });
    const message = eventText('user_add_org', { TimeStamp: '1700000000999' });
    const response = await invoke(handler, pushEvent(message));
    expect(response.statusCode).to.equal(503);
    expect(JSON.parse(response.body)).to.deep.include({ error: 'store_unavailable' });
    expect(response.body).not.to.contain('user_add_org');
    expect(logs).to.have.length(1);
    expect(logs[0]).to.include({ level: 'error', outcome: 'store_failed', status: 503, requestId: CONTEXT.requestId });
  });

  it('builds a new Tablestore client when the role credentials rotate', async function () {
    for (const [n, keys] of ROLE_KEYS.entries()) {
      const message = eventText('user_add_org', { TimeStamp: String(1_700_000_001_000 + n) });
      expect((await invoke(handler, pushEvent(message), contextWith(keys))).statusCode).to.equal(200);
    }
    const revoked = { accessKeyId: 'STS.revoked', secretAccessKey: 'gone', securityToken: 'gone' };
    expect((await invoke(handler, pushEvent(eventText('user_add_org', { TimeStamp: '1700000002000' })), contextWith(revoked))).statusCode).to.equal(503);
  });

  it('fails the invocation when Function Compute passes no credentials (the service has no role)', async function () {
    const failure = await invoke(handler, CHECK_URL, { requestId: 'r' }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).to.contain('RAM role');
  });

  describe('answers 400 with a short JSON error, never an unhandled error, for a malformed event', function () {
    const cases: Array<[string, unknown]> = [
      ['bytes that are not JSON', Buffer.from('{"path": "/dingtalk", ')],
      ['a JSON array', Buffer.from('[1, 2]')],
      ['JSON null', Buffer.from('null')],
      ['no httpMethod', { ...CHECK_URL, httpMethod: undefined }],
      ['queryParameters that are a string', { ...CHECK_URL, queryParameters: 'signature=x' }],
      ['a body that is an object', { ...CHECK_URL, body: { encrypt: 'x' } }],
      ['isBase64Encoded that is a number', { ...CHECK_URL, isBase64Encoded: 1 }],
      ['no body', { ...CHECK_URL, body: undefined }],
      ['no query parameters', { ...CHECK_URL, queryParameters: undefined }],
    ];
    for (const [what, event] of cases) {
      it(what, async function () {
        const response = await invoke(handler, event);
        expect(response.statusCode).to.equal(400);
        expect(JSON.parse(response.body)).to.have.keys('error', 'message');
        expect(logs.map((entry) => [entry.status, entry.outcome])).to.deep.equal([[400, 'rejected']]);
      });
    }
  });

  it('answers a GET with 405', async function () {
    expect((await invoke(handler, { ...CHECK_URL, httpMethod: 'GET' })).statusCode).to.equal(405);
  });

  it('accepts isBase64Encoded spelled as a string', async function () {
    expect((await invoke(handler, { ...CHECK_URL_BASE64, isBase64Encoded: 'true' })).statusCode).to.equal(200);
  });

  describe('settings', function () {
    const failureOf = (handler: FcHttpHandler) => invoke(handler, CHECK_URL).then(() => undefined, (error: unknown) => error);

    for (const variable of ['DINGTALK_AES_KEY', 'EVENTS_TABLE', 'TABLESTORE_ENDPOINT', 'TABLESTORE_INSTANCE', 'TABLESTORE_PUT_DEADLINE_MS']) {
      it(`fails the invocation with a bad ${variable}, naming it`, async function () {
        const failure = await failureOf(createHandler({ env: { ...env, [variable]: variable.endsWith('_MS') ? 'soon' : '' } }));
        expect(failure).to.be.instanceOf(ConfigError).with.property('variable', variable);
      });
    }

    it('names every missing variable at once, never a value', async function () {
      const failure = (await failureOf(createHandler({ env: { DINGTALK_AES_KEY: 'not-a-key', TABLESTORE_PUT_DEADLINE_MS: '0' } }))) as ConfigError;
      expect(failure.problems.map((problem) => problem.variable)).to.deep.equal([
        'DINGTALK_TOKEN', 'DINGTALK_AES_KEY', 'DINGTALK_OWNER_KEY', 'EVENTS_TABLE', 'TABLESTORE_ENDPOINT', 'TABLESTORE_INSTANCE', 'TABLESTORE_PUT_DEADLINE_MS',
      ]);
      expect(failure.message).not.to.contain('not-a-key');
    });

    it('tries the setup again on the next invocation, once the settings are fixed', async function () {
      const fixable: Record<string, string> = { ...env, EVENTS_TABLE: '' };
      const handler = createHandler({ env: fixable, log: () => {} });
      expect(await failureOf(handler)).to.be.instanceOf(ConfigError);
      fixable.EVENTS_TABLE = TABLE;
      expect((await invoke(handler, CHECK_URL)).statusCode).to.equal(200);
    });
  });
});
