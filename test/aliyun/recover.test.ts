import { expect } from 'chai';
import { syncRow } from '../../cli/sync-rows';
import { rowRecord } from '../../core/sync-push';
import { createHandler, type FcRecoverHandler } from '../../handlers/aliyun/recover';
import { APP_FAILED_LIST } from '../../core/recover';
import { createTablestoreClient } from '../../providers/aliyun/tablestore-client';
import { TablestoreInbox } from '../../providers/aliyun/tablestore-inbox';
import { TablestoreEventStore } from '../../providers/aliyun/tablestore-store';
import { ensureEventTable, ensureInboxTable } from '../../deploy/aliyun/tablestore-tables';
import { approvalItem, contactItem, eventIdItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { startTablestoreServer, type LocalTablestore } from '../../testkit/tablestore-server';
import { itLosesNothingItRead } from '../../testkit/recover-faults';
import { storedByEventId } from '../../testkit/store-contract';


describe('recover on Alibaba Cloud: the Function Compute handler with Tablestore (local server) and the fake DingTalk API', function () {
  let tablestore: LocalTablestore;
  let dingtalk: FakeDingTalk;
  let store: TablestoreEventStore;
  let inbox: TablestoreInbox;
  let lines: Record<string, unknown>[];
  let env: Record<string, string>;

  beforeEach(async function () {
    tablestore = await startTablestoreServer();
    const client = createTablestoreClient(tablestore.clientOptions);
    await ensureEventTable(client, 'events');
    await ensureInboxTable(client, 'events_inbox');
    store = new TablestoreEventStore({ tableName: 'events', client });
    inbox = new TablestoreInbox({ tableName: 'events_inbox', client });
    dingtalk = await new FakeDingTalk().start();
    lines = [];
    env = {
      EVENTS_TABLE: 'events', RECOVER_INBOX_TABLE: 'events_inbox', TABLESTORE_ENDPOINT: tablestore.endpoint, TABLESTORE_INSTANCE: tablestore.instance,
      DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_BACKOFF_MS: '5',
    };
  });
  afterEach(async function () {
    await dingtalk.stop();
    await tablestore.close();
  });

  const credentials = () => ({ accessKeyId: tablestore.credentials.accessKeyId, accessKeySecret: tablestore.credentials.secretAccessKey });
  const invoke = (handler: FcRecoverHandler) =>
    new Promise<{ error: Error | null; summary?: object }>((resolve) => handler(Buffer.from('{"triggerName":"recover-timer"}'), { requestId: 'r1', credentials: credentials() }, (error, summary) => resolve({ error, summary })));
  const handler = (settings: Record<string, string> = env) => createHandler({ env: settings, log: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });

  it('fails an invocation naming every missing setting, and reads them again at the next', async function () {
    const settings: Record<string, string> = { ...env, DINGTALK_APP_SECRET: '', RECOVER_INBOX_TABLE: '' };
    const recover = handler(settings);
    const { error } = await invoke(recover);
    expect(error?.message).to.equal('DINGTALK_APP_SECRET: is not set; RECOVER_INBOX_TABLE: is not set');
    expect(dingtalk.count('gettoken')).to.equal(0);
    Object.assign(settings, { DINGTALK_APP_SECRET: env.DINGTALK_APP_SECRET, RECOVER_INBOX_TABLE: env.RECOVER_INBOX_TABLE });
    expect(await invoke(recover)).to.include({ error: null });
  });

  it('uses the Tablestore client it is handed, made from each invocation\'s role keys', async function () {
    const made: string[] = [];
    const recover = createHandler({
      env,
      log: () => {},
      tablestore: (options) => {
        made.push(options.accessKeyId);
        return createTablestoreClient({ ...options, ...tablestore.clientOptions });
      },
    });
    dingtalk.failed.push(contactItem(1, dingtalk.corpId));
    expect(await invoke(recover)).to.deep.include({ error: null });
    expect(made).to.deep.equal([tablestore.credentials.accessKeyId]);
    expect((await store.list({})).records).to.have.length(1);
  });

  it('stores several pages once, with the token kept across invocations, and logs one line per run', async function () {
    dingtalk.pageSize = 25;
    for (let n = 0; n < 60; n += 1) dingtalk.failed.push(n % 2 ? approvalItem(n, dingtalk.corpId) : contactItem(n, dingtalk.corpId));
    const recover = handler();
    expect(await invoke(recover)).to.deep.equal({ error: null, summary: { pages: 3, resumed: 0, items: 60, created: 60, duplicate: 0, handshakes: 0, setAside: 0 } });
    expect((await invoke(recover)).summary).to.include({ items: 0 });
    expect(dingtalk.count('gettoken')).to.equal(1);
    const [listed] = (await store.list({ processInstanceId: 'proc-000009' })).records;
    const record = await store.get(listed!.id);
    expect(record).to.include({ source: 'recovered', ownerKey: dingtalk.appKey, corpId: dingtalk.corpId, eventTime: approvalItem(9, '').event_time });
    expect(record!.payload).to.contain('提交的');
    expect(lines.map((line) => line.outcome)).to.deep.equal(['done', 'done']);
    expect(JSON.stringify(lines)).not.to.contain(dingtalk.appSecret);
  });

  it('a second page that keeps failing fails the invocation; the first stays; the next run gets the rest', async function () {
    dingtalk.pageSize = 20;
    for (let n = 0; n < 30; n += 1) dingtalk.failed.push(eventIdItem(`evt-${n}`, dingtalk.corpId, n));
    dingtalk.fail(APP_FAILED_LIST, 'errcode', 4, 1);
    const recover = handler();
    const failed = await invoke(recover);
    expect(failed.error?.message).to.equal(`${APP_FAILED_LIST}: DingTalk errcode -1: 系统繁忙`);
    expect(lines[0]).to.include({ outcome: 'failed', step: APP_FAILED_LIST, errcode: -1, created: 20 });
    expect(await storedByEventId(store, 'evt-19')).to.include({ source: 'recovered' });
    expect(await storedByEventId(store, 'evt-20')).to.equal(undefined);
    expect((await invoke(recover)).summary).to.include({ items: 10, created: 10 });
  });

  it('finishes a reply left half-processed, and stores the same items served twice once', async function () {
    const items = [eventIdItem('half-1', dingtalk.corpId), eventIdItem('half-2', dingtalk.corpId)];
    await inbox.add(`app:${dingtalk.appKey}`, JSON.stringify({ errcode: 0, errmsg: 'ok', has_more: false, failed_list: items }));
    dingtalk.failed.push(...structuredClone(items));
    expect((await invoke(handler())).summary).to.deep.equal({ pages: 1, resumed: 1, items: 4, created: 2, duplicate: 2, handshakes: 0, setAside: 0 });
    expect(await inbox.pending(`app:${dingtalk.appKey}`)).to.deep.equal([]);
  });

  it('a store failure after a reply is read keeps the reply, which DingTalk has deleted, for the next run', async function () {
    for (let n = 0; n < 5; n += 1) dingtalk.failed.push(eventIdItem(`kept-${n}`, dingtalk.corpId, n));
    const recover = handler();
    tablestore.failWith({ operations: ['PutRow'], tables: ['events'] });
    const failed = await invoke(recover);
    expect(failed.error?.message).to.match(/^store: Tablestore PutRow failed \(OTSServerBusy\)/);
    expect(lines[0]).to.include({ outcome: 'failed', step: 'store', pages: 1, items: 0 });
    expect(dingtalk.failed).to.have.length(0);
    expect(await inbox.pending(`app:${dingtalk.appKey}`)).to.have.length(1);
    tablestore.recover();
    expect((await invoke(recover)).summary).to.deep.equal({ pages: 1, resumed: 1, items: 5, created: 5, duplicate: 0, handshakes: 0, setAside: 0 });
    expect(await storedByEventId(store, 'kept-4')).to.include({ source: 'recovered' });
    expect(await inbox.pending(`app:${dingtalk.appKey}`)).to.deep.equal([]);
  });

  describe('hostile failed lists, on Tablestore', function () {
    itLosesNothingItRead({ store: () => store, inbox: () => inbox, holdsLargeItems: true });
  });

  it('a wrong secret fails at gettoken with DingTalk\'s errcode, and no secret is logged', async function () {
    env.DINGTALK_APP_SECRET = 'the-wrong-one';
    const { error } = await invoke(handler());
    expect(error?.message).to.equal('gettoken: DingTalk errcode 40089: 不合法的corpid或corpsecret');
    expect(JSON.stringify(lines)).not.to.contain('the-wrong-one');
  });

  it('an ISV suite takes the latest ticket of its SyncHTTP rows, however late an older one arrives', async function () {
    const ticketRow = (ticket: string, modified: number) => rowRecord(JSON.stringify(syncRow('suite_ticket', { ticket, modified })), dingtalk.suiteKey, new Date());
    await store.put(ticketRow(dingtalk.suiteTicket, 1_764_000_200_000));
    await store.put(ticketRow('an-older-voided-ticket', 1_764_000_100_000));
    dingtalk.suiteRecords.push({ id: 1, corpid: 'dingisv', call_back_tag: 'bpms_task_change', call_back_data: JSON.stringify({ processInstanceId: 'isv-late', title: '出差' }), event_time: 1_764_000_000_001, confirmed: false });
    env = { ...env, DINGTALK_APP_KEY: '', DINGTALK_SUITE_KEY: dingtalk.suiteKey, DINGTALK_SUITE_SECRET: dingtalk.suiteSecret, DINGTALK_SUITE_TAGS: 'bpms_task_change' };
    const { summary, error } = await invoke(handler());
    expect(error).to.equal(null);
    expect(summary).to.include({ items: 1, created: 1 });
    expect(JSON.stringify(lines)).not.to.contain(dingtalk.suiteTicket);
  });

  it('an ISV suite reads the newest suite_ticket from Tablestore, lists by cursor and confirms after storing', async function () {
    await store.put({ id: `${dingtalk.suiteKey}:event:suite_ticket:ticket-1`, eventId: 'ticket-1', eventType: 'suite_ticket', ownerKey: dingtalk.suiteKey, source: 'push', receivedAt: new Date().toISOString(), payload: JSON.stringify({ EventType: 'suite_ticket', SuiteTicket: dingtalk.suiteTicket }) });
    for (let id = 1; id <= 110; id += 1) {
      dingtalk.suiteRecords.push({ id, corpid: 'dingisv', call_back_tag: 'bpms_task_change', call_back_data: JSON.stringify({ processInstanceId: `isv-${id}`, title: '出差 🚄' }), event_time: 1_764_000_000_000 + id, confirmed: false });
    }
    env = { ...env, DINGTALK_APP_KEY: '', DINGTALK_SUITE_KEY: dingtalk.suiteKey, DINGTALK_SUITE_SECRET: dingtalk.suiteSecret, DINGTALK_SUITE_TAGS: 'bpms_task_change' };
    expect((await invoke(handler())).summary).to.include({ pages: 2, items: 110, created: 110 });
    expect(dingtalk.suiteRecords.every((record) => record.confirmed)).to.equal(true);
  });
});
