import { inspect } from 'node:util';
import { expect } from 'chai';
import { DingTalkApi, DingTalkApiError } from '../../core/dingtalk-api';
import type { ConfigError } from '../../core/errors';
import { capField, MAX_FIELD_BYTES } from '../../core/events';
import { MemoryInbox } from '../../core/inbox';
import { MemoryEventStore } from '../../core/memory-store';
import { accessTokenFor, APP_FAILED_LIST, loadRecoverSettings, MAX_PAGES_PER_PASS, recover, RecoverError, SUITE_FAILED_LIST, type RecoverSettings } from '../../core/recover';
import { createCallback } from '../../core/callback';
import { loadSettings } from '../../core/settings';
import { approvalItem, contactItem, eventIdItem, FakeDingTalk } from '../../testkit/fake-dingtalk';
import { SAMPLE_ENV, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { pushRequest } from '../../testkit/push';

const FAST = [5, 10];

describe('recover pass (core, memory store, fake DingTalk over HTTP)', () => {
  let dingtalk: FakeDingTalk;
  let settings: RecoverSettings;

  beforeEach(async () => {
    dingtalk = await new FakeDingTalk().start();
    settings = loadRecoverSettings({ DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_TIMEOUT_MS: '300' });
  });
  afterEach(() => dingtalk.stop());

  const run = (store = new MemoryEventStore(), inbox = new MemoryInbox(), token = accessTokenFor(settings)) => recover({ settings, token, store, inbox, retryDelaysMs: FAST });

  it('reads every page while has_more, one token for the run, and stores each item as a recovered record', async () => {
    for (let n = 0; n < 450; n += 1) dingtalk.failed.push(n % 3 === 0 ? contactItem(n, dingtalk.corpId) : approvalItem(n, dingtalk.corpId));
    const store = new MemoryEventStore();
    const inbox = new MemoryInbox();
    const summary = await run(store, inbox);
    expect(summary).to.deep.equal({ pages: 3, resumed: 0, items: 450, created: 450, duplicate: 0, handshakes: 0, setAside: 0 });
    expect(dingtalk.count('gettoken')).to.equal(1);
    expect(dingtalk.failed).to.have.length(0);
    expect(await inbox.pending(settings.source)).to.deep.equal([]);
    const [record] = (await store.list({ processInstanceId: 'proc-000001' })).records;
    expect(record).to.include({ eventType: 'bpms_instance_change', source: 'recovered', corpId: dingtalk.corpId, eventTime: approvalItem(1, '').event_time, ownerKey: dingtalk.appKey });
    expect(JSON.parse(record!.payload)).to.deep.equal(approvalItem(1, dingtalk.corpId).bpms_instance_change);
    expect(record!.payload).to.contain('李四提交的报销申请 💰');
  });

  it('caps an over-long processInstanceId, as for a push, so listing by it finds the record', async () => {
    const item = approvalItem(1, dingtalk.corpId);
    const long = `proc-${'长'.repeat(500)}`;
    (item.bpms_instance_change as { bpmsCallBackData: { processInstanceId: string } }).bpmsCallBackData.processInstanceId = long;
    dingtalk.failed.push(item);
    const store = new MemoryEventStore();
    await run(store);
    const [record] = (await store.list({ processInstanceId: long })).records;
    expect(record?.processInstanceId).to.equal(capField(long));
    expect(Buffer.byteLength(record!.processInstanceId!)).to.be.at.most(MAX_FIELD_BYTES);
    expect(record!.payload).to.contain(long);
  });

  it('a run that finds nothing costs one counted call: the token (free anyway) is kept for its lifetime across runs', async () => {
    const token = accessTokenFor(settings);
    for (let runs = 1; runs <= 3; runs += 1) {
      expect(await run(undefined, undefined, token)).to.include({ pages: 1, items: 0 });
      // DingTalk counts every server-API call against the month's 5,000 but gettoken.
      expect(dingtalk.calls.filter((call) => call.path !== 'gettoken').map((call) => call.path)).to.deep.equal(Array(runs).fill(APP_FAILED_LIST));
    }
    expect(dingtalk.count('gettoken')).to.equal(1);
  });

  it('files a recovered item under the ownerKey its app\'s pushes take: with the appKey and the corpId both served, its pushed twin is the same record', async () => {
    const both = loadRecoverSettings({ DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_OWNER_KEY: `${dingtalk.appKey},${dingtalk.corpId}` });
    const store = new MemoryEventStore();
    const secrets = { ...SAMPLE_ENV, DINGTALK_OWNER_KEY: `${dingtalk.appKey},${dingtalk.corpId}` };
    const callback = createCallback({ settings: loadSettings(secrets), store, log: () => {} });
    // The internal app's event subscription: DingTalk encrypts its pushes for the appKey.
    const pushed = JSON.stringify({ EventType: 'org_dept_create', eventId: 'twin-1', CorpId: dingtalk.corpId, DeptId: [4096] });
    expect((await callback(pushRequest(pushed, SAMPLE_SETTINGS, dingtalk.appKey))).statusCode).to.equal(200);
    dingtalk.failed.push(eventIdItem('twin-1', dingtalk.corpId));
    expect(await recover({ settings: both, token: accessTokenFor(both), store, inbox: new MemoryInbox(), retryDelaysMs: FAST })).to.include({ items: 1, created: 0, duplicate: 1 });
    expect((await store.list()).records.map((record) => [record.ownerKey, record.source])).to.deep.equal([[dingtalk.appKey, 'push']]);
    // A corp that registered its callbacks itself serves its corpId alone: its items go there.
    const corpOnly = loadRecoverSettings({ DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_OWNER_KEY: dingtalk.corpId });
    dingtalk.failed.push(eventIdItem('corp-1', dingtalk.corpId));
    await recover({ settings: corpOnly, token: accessTokenFor(corpOnly), store, inbox: new MemoryInbox(), retryDelaysMs: FAST });
    expect((await store.list({ eventType: 'org_dept_create' })).records.find((record) => record.eventId === 'corp-1')?.ownerKey).to.equal(dingtalk.corpId);
  });

  it(`ends the pass after ${MAX_PAGES_PER_PASS} pages when DingTalk serves the same page for ever, the item stored once`, async () => {
    dingtalk.forgetsNothing = true;
    dingtalk.pageSize = 1;
    dingtalk.failed.push(eventIdItem('again', dingtalk.corpId), eventIdItem('never-reached', dingtalk.corpId));
    expect(await run()).to.include({ pages: MAX_PAGES_PER_PASS, items: MAX_PAGES_PER_PASS, created: 1, duplicate: MAX_PAGES_PER_PASS - 1 });
    expect(dingtalk.count(APP_FAILED_LIST)).to.equal(MAX_PAGES_PER_PASS);
  });

  it('keeps no errcode answer in the inbox: a stale token is fetched anew and the page read, one reply kept and finished', async () => {
    const store = new MemoryEventStore();
    const inbox = new MemoryInbox();
    const token = accessTokenFor(settings);
    await run(store, inbox, token);
    // DingTalk revoked the token: the next list call answers 40014, the one after it the page.
    dingtalk.revokeTokens();
    dingtalk.failed.push(eventIdItem('after-stale', dingtalk.corpId));
    const adds: string[] = [];
    const watched = Object.assign(Object.create(inbox) as MemoryInbox, { add: (source: string, body: string, id?: string) => (adds.push(body), inbox.add(source, body, id)) });
    expect(await recover({ settings, token, store, inbox: watched, retryDelaysMs: FAST })).to.include({ pages: 1, created: 1 });
    expect(adds.map((body) => (JSON.parse(body) as { errcode: number }).errcode)).to.deep.equal([40014, 0]);
    expect(await inbox.pending(settings.source)).to.deep.equal([]);
  });

  it('retries a token answer that is no JSON, then fails at gettoken, reading no failed list', async () => {
    dingtalk.fail('gettoken', 'truncated', 4);
    dingtalk.failed.push(eventIdItem('untouched', dingtalk.corpId));
    const error = (await run().catch((caught: unknown) => caught)) as RecoverError;
    expect(error).to.be.instanceOf(RecoverError).and.include({ step: 'gettoken' });
    expect(error.message).to.match(/is not a JSON object$/);
    expect(dingtalk.count('gettoken'), 'one try and FAST\'s two retries').to.equal(3);
    expect(dingtalk.count(APP_FAILED_LIST)).to.equal(0);
    expect(dingtalk.failed).to.have.length(1);
  });

  it('keeps a token whose reply says expires_in: 0 rather than fetching one for every call', async () => {
    dingtalk.statedLifetimeSeconds = 0;
    const token = accessTokenFor(settings);
    for (let pass = 0; pass < 3; pass += 1) await run(undefined, undefined, token);
    expect(dingtalk.count('gettoken')).to.equal(1);
    expect(dingtalk.count(APP_FAILED_LIST)).to.equal(3);
  });

  it('refuses a DINGTALK_API_BASE with a user or password in it, or plain http to another machine', () => {
    const base = (value: string) => () => loadRecoverSettings({ DINGTALK_API_BASE: value, DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' });
    expect(base('https://user:pass@oapi.dingtalk.com')).to.throw(/^DINGTALK_API_BASE: must not carry a user name or password/);
    expect(base('http://user@127.0.0.1:8080')).to.throw(/^DINGTALK_API_BASE: must not carry a user name or password/);
    for (const value of ['http://oapi.dingtalk.com', 'http://10.0.0.7:8080', 'http://localhost.example.com']) expect(base(value), value).to.throw(/^DINGTALK_API_BASE: must be https \(plain http is allowed to localhost, 127\.0\.0\.1 and \[::1\] only\)/);
    expect(base('ftp://oapi.dingtalk.com')).to.throw(/^DINGTALK_API_BASE: must be an https URL/);
    expect(base('https://oapi.dingtalk.com/?debug=1')).to.throw(/^DINGTALK_API_BASE: must not carry a query/);
    for (const value of ['https://oapi.dingtalk.com', 'https://api.dingtalk.io/', 'http://localhost:8080', 'http://127.0.0.1:1', 'http://[::1]:9']) expect(base(value)().apiBase, value).to.equal(value);
  });

  it('never quotes the URL, and so the secret, of a request that could not be made', async () => {
    // What the settings refuse: a base with credentials, which fetch refuses quoting the whole URL.
    const api = new DingTalkApi({ base: 'http://user:pass@127.0.0.1:9', timeoutMs: 300 });
    const error = (await api.call('gettoken', { appkey: 'k', appsecret: 'the-app-secret' }).catch((caught: unknown) => caught)) as DingTalkApiError;
    expect(error).to.be.instanceOf(DingTalkApiError).and.include({ step: 'gettoken' });
    expect(error.message).to.match(/^gettoken: cannot reach http:\/\/127\.0\.0\.1:9 \(/);
    for (const secret of ['the-app-secret', 'pass']) expect(`${error.message} ${String(error.cause)} ${inspect(error)}`).not.to.contain(secret);
  });

  it('retries a failing page with backoff and then goes on', async () => {
    for (let n = 0; n < 250; n += 1) dingtalk.failed.push(approvalItem(n, dingtalk.corpId));
    dingtalk.pageSize = 100;
    const store = new MemoryEventStore();
    const original = dingtalk.failed.length;
    // The second page fails twice (HTTP 500, then once more): the third attempt reads it.
    let pages = 0;
    const summary = await recover({
      settings, token: accessTokenFor(settings), store, inbox: new MemoryInbox(), retryDelaysMs: FAST,
      onPage: () => {
        pages += 1;
        if (pages === 1) dingtalk.fail(APP_FAILED_LIST, 'http500', 2);
      },
    });
    expect(summary.items).to.equal(original);
    expect(dingtalk.count(APP_FAILED_LIST)).to.equal(5);
  });

  for (const fault of ['http500', 'errcode', 'hang'] as const) {
    it(`a second page that keeps failing (${fault}) fails the run naming the step, and the first page's records stay`, async () => {
      for (let n = 0; n < 300; n += 1) dingtalk.failed.push(approvalItem(n, dingtalk.corpId));
      const store = new MemoryEventStore();
      const inbox = new MemoryInbox();
      const error = await recover({
        settings, token: accessTokenFor(settings), store, inbox, retryDelaysMs: FAST,
        onPage: () => dingtalk.fail(APP_FAILED_LIST, fault, 3),
      }).catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(RecoverError);
      const failed = error as RecoverError;
      expect(failed.step).to.equal(APP_FAILED_LIST);
      expect(failed.message).to.match(fault === 'http500' ? /HTTP 500/ : fault === 'errcode' ? /errcode -1: 系统繁忙/ : /no answer .* within 300 ms/);
      expect(failed.message).not.to.contain(dingtalk.appSecret);
      expect(failed.summary).to.include({ pages: 1, items: 200, created: 200 });
      expect(await store.get((await store.list({ processInstanceId: 'proc-000199' })).records[0]!.id)).to.include({ source: 'recovered' });
      expect(await inbox.pending(settings.source)).to.deep.equal([]);
      // DingTalk still holds the second page; the next run reads it.
      expect(await run(store, inbox)).to.include({ pages: 1, items: 100, created: 100 });
    });
  }

  it('finishes a reply a run left half-processed before reading more', async () => {
    const store = new MemoryEventStore();
    const inbox = new MemoryInbox();
    const items = [approvalItem(1, dingtalk.corpId), approvalItem(2, dingtalk.corpId), contactItem(3, dingtalk.corpId)];
    // A run read this reply, kept it, stored the first item and stopped.
    await inbox.add(settings.source, JSON.stringify({ errcode: 0, errmsg: 'ok', has_more: false, failed_list: items }));
    dingtalk.failed.push(...items.slice(0, 1));
    await run(store, new MemoryInbox());
    dingtalk.failed.push(approvalItem(4, dingtalk.corpId));
    const summary = await run(store, inbox);
    expect(summary).to.deep.equal({ pages: 1, resumed: 1, items: 4, created: 3, duplicate: 1, handshakes: 0, setAside: 0 });
    expect(await inbox.pending(settings.source)).to.deep.equal([]);
  });

  it('an inbox that cannot keep a reply still gets its items stored, then the run fails naming the inbox', async function () {
    for (let n = 0; n < 3; n += 1) dingtalk.failed.push(eventIdItem(`unkept-${n}`, dingtalk.corpId, n));
    const store = new MemoryEventStore();
    const inbox = new MemoryInbox();
    inbox.add = async () => {
      throw new Error('the inbox table is throttled');
    };
    const error = (await run(store, inbox).catch((caught: unknown) => caught)) as RecoverError;
    expect(error.step).to.equal('inbox');
    expect(error.summary).to.include({ pages: 1, items: 3, created: 3 });
    const stored = (await store.list({ limit: 1000 })).records;
    for (let n = 0; n < 3; n += 1) expect(stored.find((record) => record.eventId === `unkept-${n}`)).to.include({ source: 'recovered' });
  });

  it('the same items served twice are stored once; an item with an eventId meets its pushed twin', async () => {
    const store = new MemoryEventStore();
    const items = [approvalItem(1, dingtalk.corpId), contactItem(2, dingtalk.corpId), eventIdItem('evt-0001', dingtalk.corpId)];
    dingtalk.failed.push(...structuredClone(items));
    expect(await run(store)).to.include({ created: 3 });
    dingtalk.failed.push(...structuredClone(items));
    expect(await run(store)).to.include({ items: 3, created: 0, duplicate: 3 });
    expect((await store.list({ limit: 1000 })).records.find((record) => record.eventId === 'evt-0001')).to.include({ eventType: 'org_dept_create', source: 'recovered' });
    // Two different events with the same data at different times stay two.
    dingtalk.failed.push(contactItem(2, dingtalk.corpId, 42));
    expect(await run(store)).to.include({ created: 1 });
  });

  it('a wrong secret fails at gettoken with DingTalk\'s errcode, once, and names no secret', async () => {
    const wrong = loadRecoverSettings({ DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: 'not-the-secret' });
    dingtalk.failed.push(approvalItem(1, dingtalk.corpId));
    const error = (await recover({ settings: wrong, token: accessTokenFor(wrong), store: new MemoryEventStore(), inbox: new MemoryInbox(), retryDelaysMs: FAST }).catch((caught: unknown) => caught)) as RecoverError;
    expect(error.step).to.equal('gettoken');
    expect(error.message).to.equal('gettoken: DingTalk errcode 40089: 不合法的corpid或corpsecret');
    expect(dingtalk.count('gettoken')).to.equal(1);
    expect(dingtalk.failed).to.have.length(1);
  });

  it('an ISV suite lists unconfirmed records by cursor and confirms each page only after storing it', async () => {
    for (let id = 1; id <= 230; id += 1) {
      dingtalk.suiteRecords.push({ id: id * 10, corpid: `dingcorp${id % 3}`, call_back_tag: id % 2 ? 'user_add_org' : 'bpms_task_change', call_back_data: JSON.stringify({ processInstanceId: `isv-${id}`, title: '请假 🏖️' }), event_time: 1_764_000_000_000 + id, confirmed: id <= 5 });
    }
    const suite = loadRecoverSettings({ DINGTALK_API_BASE: dingtalk.url, DINGTALK_SUITE_KEY: dingtalk.suiteKey, DINGTALK_SUITE_SECRET: dingtalk.suiteSecret, DINGTALK_SUITE_TAGS: 'user_add_org,bpms_task_change' });
    const store = new MemoryEventStore();
    // Which records were stored while DingTalk still had them unconfirmed: all of them must be.
    const storedBeforeConfirm = new Set<string>();
    const recording = {
      put: async (record: Parameters<MemoryEventStore['put']>[0]) => {
        const served = dingtalk.suiteRecords.find((candidate) => candidate.call_back_data === record.payload);
        if (served && !served.confirmed) storedBeforeConfirm.add(record.payload);
        return store.put(record);
      },
    };
    const summary = await recover({ settings: suite, token: accessTokenFor(suite, async () => dingtalk.suiteTicket), store: recording, inbox: new MemoryInbox(), retryDelaysMs: FAST });
    expect(summary).to.include({ pages: 3, items: 225, created: 225 });
    expect(dingtalk.suiteRecords.every((record) => record.confirmed)).to.equal(true);
    expect(storedBeforeConfirm.size).to.equal(225);
    const lists = dingtalk.calls.filter((call) => call.path === SUITE_FAILED_LIST).map((call) => call.body!.req as { cursor?: number; confirm: boolean; status: number });
    expect(lists.map((req) => [req.cursor, req.confirm])).to.deep.equal([[undefined, false], [undefined, true], [1050, false], [1050, true], [2050, false], [2050, true]]);
    expect(lists.every((req) => req.status === 1)).to.equal(true);
    const [record] = (await store.list({ processInstanceId: 'isv-7' })).records;
    expect(record).to.include({ ownerKey: dingtalk.suiteKey, corpId: 'dingcorp1', source: 'recovered' });
    expect(record!.payload).to.equal(JSON.stringify({ processInstanceId: 'isv-7', title: '请假 🏖️' }));
  });

  it('settings: app key and secret, or the suite\'s; the secret never shows when logged', () => {
    expect(() => loadRecoverSettings({})).to.throw('DINGTALK_APP_KEY: is not set; DINGTALK_APP_SECRET: is not set');
    expect(() => loadRecoverSettings({ DINGTALK_SUITE_KEY: 's', DINGTALK_SUITE_SECRET: 'x' })).to.throw(/DINGTALK_SUITE_TAGS/);
    expect(() => loadRecoverSettings({ DINGTALK_SUITE_KEY: 's' }), 'every missing setting at once').to.throw(/^DINGTALK_SUITE_SECRET: is not set; DINGTALK_SUITE_TAGS: must list/);
    const everything = (() => {
      try {
        return loadRecoverSettings({ DINGTALK_API_BASE: 'oapi.dingtalk.com', DINGTALK_API_TIMEOUT_MS: 'soon' });
      } catch (error) {
        return (error as ConfigError).problems.map((problem) => problem.variable);
      }
    })();
    expect(everything, 'every bad setting at once').to.deep.equal(['DINGTALK_API_BASE', 'DINGTALK_API_TIMEOUT_MS', 'DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET']);
    expect(() => loadRecoverSettings({ DINGTALK_API_BASE: 'oapi.dingtalk.com', DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' })).to.throw(/DINGTALK_API_BASE/);
    const shown = JSON.stringify(loadRecoverSettings({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 'very-secret' }));
    expect(shown).not.to.contain('very-secret');
    expect(shown).to.contain('https://oapi.dingtalk.com');
  });
});
