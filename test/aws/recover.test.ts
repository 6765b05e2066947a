import { recordId } from '../../core/events';
import { expect } from 'chai';
import { createHandler } from '../../handlers/aws/recover';
import { APP_FAILED_LIST, type RecoverError } from '../../core/recover';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DynamoDbInbox } from '../../providers/aws/dynamodb-inbox';
import { ensureEventTable, ensureRecoverInboxTable } from '../../providers/local/events-table';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { approvalItem, contactItem, eventIdItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { FakeSsm } from '../../testkit/fake-ssm';
import { itLosesNothingItRead } from '../../testkit/recover-faults';
import { storedByEventId } from '../../testkit/store-contract';

const PREFIX = '/dingtalk-callback/test';


describe('recover on AWS: the Lambda handler with DynamoDB (dynalite), SSM (fake) and the fake DingTalk API', function () {
  let dynamo: TestDynamoDb;
  let ssm: FakeSsm;
  let dingtalk: FakeDingTalk;
  let store: DynamoDbEventStore;
  let inbox: DynamoDbInbox;
  let lines: Record<string, unknown>[];
  let handler: ReturnType<typeof createHandler>;

  beforeEach(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, 'events');
    await ensureRecoverInboxTable(dynamo.client, 'inbox');
    dingtalk = await new FakeDingTalk().start();
    ssm = await new FakeSsm().start();
    ssm.parameters.set(`${PREFIX}/app-key`, dingtalk.appKey);
    ssm.parameters.set(`${PREFIX}/app-secret`, dingtalk.appSecret);
    // The corp registered its callbacks itself (the appKey is not served): its pushes are encrypted for the corpId.
    ssm.parameters.set(`${PREFIX}/owner-key`, dingtalk.corpId);
    store = new DynamoDbEventStore({ tableName: 'events', client: dynamo.client });
    inbox = new DynamoDbInbox({ tableName: 'inbox', client: dynamo.client });
    lines = [];
    const env = { DINGTALK_SSM_PREFIX: PREFIX, EVENTS_TABLE: 'events', RECOVER_INBOX_TABLE: 'inbox', DINGTALK_API_BASE: dingtalk.url, DINGTALK_API_BACKOFF_MS: '5' };
    handler = createHandler({ env, dynamodb: dynamo.client, ssm: ssm.jsonClient(), log: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  });
  afterEach(async function () {
    await dingtalk.stop();
    await ssm.stop();
    dynamo.client.destroy();
    await dynamo.server.close();
  });

  it('names every bad setting at once: an SSM parameter missing, and both tables unset', async function () {
    ssm.parameters.delete(`${PREFIX}/app-secret`);
    const recover = createHandler({ env: { DINGTALK_SSM_PREFIX: PREFIX, DINGTALK_API_BASE: dingtalk.url }, dynamodb: dynamo.client, ssm: ssm.jsonClient(), log: () => {} });
    const failure = (await recover({}).catch((error: unknown) => error)) as Error;
    expect(failure.message).to.contain(`${PREFIX}/app-secret`);
    expect(failure.message).to.contain('EVENTS_TABLE: is not set');
    expect(failure.message).to.contain('RECOVER_INBOX_TABLE: is not set');
    expect(dingtalk.count('gettoken')).to.equal(0);
  });

  it('stores several pages once, reading SSM and the token once for many runs, and logs one line with no secret', async function () {
    dingtalk.pageSize = 30;
    for (let n = 0; n < 75; n += 1) dingtalk.failed.push(n % 2 ? approvalItem(n, dingtalk.corpId) : contactItem(n, dingtalk.corpId));
    expect(await handler({ source: 'aws.events' })).to.deep.equal({ pages: 3, resumed: 0, items: 75, created: 75, duplicate: 0, handshakes: 0, setAside: 0 });
    expect(await handler({ source: 'aws.events' })).to.include({ pages: 1, items: 0 });
    expect(dingtalk.count('gettoken')).to.equal(1);
    expect(ssm.requests).to.deep.equal([{ Names: ['app-key', 'app-secret', 'owner-key'].map((name) => `${PREFIX}/${name}`), WithDecryption: true }]);
    const [record] = (await store.list({ processInstanceId: 'proc-000003' })).records;
    expect(record).to.include({ source: 'recovered', ownerKey: dingtalk.corpId, corpId: dingtalk.corpId, eventType: 'bpms_instance_change' });
    expect(JSON.parse(record!.payload)).to.deep.equal(approvalItem(3, dingtalk.corpId).bpms_instance_change);
    expect((await store.get(record!.id))?.source).to.equal('recovered');
    expect(lines[0]).to.include({ level: 'info', msg: 'recover', outcome: 'done', pages: 3, items: 75, created: 75 });
    expect(JSON.stringify(lines)).not.to.contain(dingtalk.appSecret);
  });

  it('a failing second page fails the invocation with its step and status logged; the first page stays; the next run gets the rest', async function () {
    dingtalk.pageSize = 20;
    for (let n = 0; n < 35; n += 1) dingtalk.failed.push(eventIdItem(`evt-${n}`, dingtalk.corpId, n));
    dingtalk.fail(APP_FAILED_LIST, 'http500', 4, 1);
    const error = (await handler({}).catch((caught: unknown) => caught)) as RecoverError;
    expect(error.step).to.equal(APP_FAILED_LIST);
    expect(lines[0]).to.include({ level: 'error', outcome: 'failed', step: APP_FAILED_LIST, httpStatus: 500, pages: 1, created: 20 });
    expect(await storedByEventId(store, 'evt-19')).to.include({ source: 'recovered' });
    expect(await storedByEventId(store, 'evt-20')).to.equal(undefined);
    expect(await handler({})).to.include({ items: 15, created: 15 });
  });

  it('finishes a reply left half-processed, and stores the same items served twice once', async function () {
    const items = [eventIdItem('half-1', dingtalk.corpId), approvalItem(7, dingtalk.corpId), contactItem(8, dingtalk.corpId)];
    await store.put({ id: recordId({ ownerKey: dingtalk.corpId, eventType: 'org_dept_create', eventId: 'half-1', bytes: Buffer.alloc(0) }), eventId: 'half-1', eventType: 'org_dept_create', ownerKey: dingtalk.corpId, source: 'recovered', receivedAt: new Date().toISOString(), payload: '{}' });
    await inbox.add(`app:${dingtalk.appKey}`, JSON.stringify({ errcode: 0, errmsg: 'ok', has_more: false, failed_list: items }));
    dingtalk.failed.push(...structuredClone(items));
    expect(await handler({})).to.deep.equal({ pages: 1, resumed: 1, items: 6, created: 2, duplicate: 4, handshakes: 0, setAside: 0 });
    expect(await inbox.pending(`app:${dingtalk.appKey}`)).to.deep.equal([]);
  });

  describe('hostile failed lists, on DynamoDB', function () {
    itLosesNothingItRead({ store: () => store, inbox: () => inbox, holdsLargeItems: false });
  });

  it('a wrong app secret in SSM fails at gettoken with errcode 40089, logged without the secret', async function () {
    ssm.parameters.set(`${PREFIX}/app-secret`, 'the-wrong-secret');
    await handler({}).catch(() => undefined);
    expect(lines[0]).to.include({ outcome: 'failed', step: 'gettoken', errcode: 40089 });
    expect(JSON.stringify(lines)).not.to.contain('the-wrong-secret');
  });

  it('a missing SSM parameter names it, and the next invocation tries again', async function () {
    ssm.parameters.delete(`${PREFIX}/app-secret`);
    const error = (await handler({}).catch((caught: unknown) => caught)) as Error;
    expect(error.message).to.equal(`DINGTALK_SSM_PREFIX: SSM has no parameter ${PREFIX}/app-secret`);
    ssm.parameters.set(`${PREFIX}/app-secret`, dingtalk.appSecret);
    expect(await handler({})).to.include({ pages: 1 });
  });
});
