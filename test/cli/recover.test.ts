import { expect } from 'chai';
import { main } from '../../cli/main';
import { APP_FAILED_LIST, SUITE_FAILED_LIST } from '../../core/recover';
import { loadSettings } from '../../core/settings';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DynamoDbInbox } from '../../providers/aws/dynamodb-inbox';
import { ensureEventTable, ensureRecoverInboxTable } from '../../providers/local/events-table';
import { LOCAL_INBOX_TABLE, LOCAL_TABLE_NAME } from '../../providers/local/local-dynamodb';
import { startCallbackServer, type CallbackServer } from '../../testkit/callback-server';
import { captureOutput } from '../../testkit/capture-output';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';
import { approvalItem, contactItem, eventIdItem, FakeDingTalk, type FailedListItem } from '../../testkit/fake-dingtalk';
import { freshDingTalkEnv } from '../../testkit/hostile-pushes';
import { storedByEventId } from '../../testkit/store-contract';

/** Runs the real CLI in this process with `env` set on top of a clean environment, output captured. */
async function cli(args: string[], env: Record<string, string>): Promise<{ status: number; output: string }> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('DINGTALK_')) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const { result, output } = await captureOutput(() => main(args));
    return { status: result, output };
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}


describe('dingtalk-callback recover and callback-url (in process, local store on dynalite, fake DingTalk API)', function () {
  let dynamo: TestDynamoDb;
  let dingtalk: FakeDingTalk;
  let store: DynamoDbEventStore;
  let inbox: DynamoDbInbox;
  let env: Record<string, string>;

  beforeEach(async function () {
    // A fresh in-memory dynalite per test, with the tables npm start makes.
    dynamo = await startTestDynamoDb();
    dingtalk = await new FakeDingTalk().start();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    await ensureRecoverInboxTable(dynamo.client, LOCAL_INBOX_TABLE);
    store = new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client: dynamo.client });
    inbox = new DynamoDbInbox({ tableName: LOCAL_INBOX_TABLE, client: dynamo.client });
    env = { DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_BACKOFF_MS: '5', DINGTALK_API_TIMEOUT_MS: '500' };
  });
  afterEach(async function () {
    await dingtalk.stop();
    dynamo.client.destroy();
    await dynamo.server.close();
  });

  const recover = (extra: Record<string, string> = {}) => cli(['recover', '--endpoint', dynamo.endpoint], { ...env, ...extra });

  it('brings five pages into the store once, with progress, and the secret nowhere', async function () {
    // Pages of 8 rather than DingTalk's 200 keep the test fast; the core's tests read full pages.
    dingtalk.pageSize = 8;
    for (let n = 0; n < 40; n += 1) dingtalk.failed.push(n % 4 === 0 ? contactItem(n, dingtalk.corpId, n) : approvalItem(n, dingtalk.corpId));
    const { status, output } = await recover();
    expect(status, output).to.equal(0);
    expect(output).to.match(/recovered 40 items from 5 pages: 40 new, 0 already stored in \d+ ms/);
    expect(output.match(/so far/g)).to.have.length(5);
    expect(output).not.to.contain(dingtalk.appSecret);
    expect(dingtalk.failed).to.have.length(0);
    expect(await inbox.pending(`app:${dingtalk.appKey}`)).to.deep.equal([]);
    const [record] = (await store.list({ processInstanceId: 'proc-000005' })).records;
    expect(record).to.include({ source: 'recovered', eventType: 'bpms_instance_change', corpId: dingtalk.corpId, ownerKey: dingtalk.appKey });
    expect(record!.payload).to.contain('提交的');
    // The same items served again are all duplicates.
    dingtalk.failed.push(contactItem(0, dingtalk.corpId, 0), contactItem(4, dingtalk.corpId, 4));
    const again = await recover();
    expect(again.output).to.contain('recovered 2 items from 1 page: 0 new, 2 already stored');
  });

  it('a second page that keeps failing exits 1 naming the step and the HTTP status, keeps the first page, and the next run gets the rest', async function () {
    dingtalk.pageSize = 10;
    for (let n = 0; n < 24; n += 1) dingtalk.failed.push(eventIdItem(`evt-${n}`, dingtalk.corpId, n));
    // The first page is served; all four attempts at the second fail.
    dingtalk.fail(APP_FAILED_LIST, 'http500', 4, 1);
    const { status, output } = await recover();
    expect(status, output).to.equal(1);
    expect(output).to.contain(`dingtalk-callback recover: failed at ${APP_FAILED_LIST}: HTTP 500 from ${dingtalk.url}`);
    expect(output).to.contain('recovered 10 items from 1 page: 10 new, 0 already stored before it; every item read is stored, and DingTalk keeps what was not read yet: run recover again once the cause is fixed');
    expect(output).not.to.contain(dingtalk.appSecret);
    expect(await storedByEventId(store, `evt-9`)).to.include({ source: 'recovered' });
    expect(await storedByEventId(store, `evt-10`)).to.equal(undefined);
    const next = await recover();
    expect(next.status, next.output).to.equal(0);
    expect(next.output).to.contain('recovered 14 items from 2 pages: 14 new');
    expect(await storedByEventId(store, `evt-23`)).to.include({ source: 'recovered' });
  });

  it('sets aside what no record can be made of, says so, lists it with --set-aside, and exits 1 on a reply cut short, saying what became of it', async function () {
    const inherited = { note: 'CSI \u009b2J', call_back_tag: 'constructor', event_time: 1 };
    dingtalk.failed.push(inherited as unknown as FailedListItem, eventIdItem('kept-1', dingtalk.corpId));
    const first = await recover();
    expect(first.status, first.output).to.equal(0);
    expect(first.output).to.contain('recovered 2 items from 1 page: 1 new, 0 already stored, 1 set aside in');
    expect(first.output).to.contain('1 set-aside item kept in the inbox, from this run and earlier ones: dingtalk-callback recover --set-aside lists them');
    const listed = await cli(['recover', '--set-aside', '--endpoint', dynamo.endpoint], env);
    expect(listed.status, listed.output).to.equal(0);
    expect(listed.output).to.match(/^SET ASIDE AT +ID +SIZE +REASON +TEXT$/m);
    expect(listed.output).to.contain('carries no data under its call_back_tag "constructor"');
    expect(listed.output).to.contain('CSI \\u009b2J').and.not.contain('\u009b');
    const json = await cli(['recover', '--set-aside', '--json', '--endpoint', dynamo.endpoint], env);
    expect((JSON.parse(json.output) as { setAside: Array<{ text: string }> }).setAside.map((entry) => JSON.parse(entry.text))).to.deep.equal([inherited]);
    expect(json.output).not.to.contain('\u009b');

    dingtalk.failed.push(eventIdItem('cut-1', dingtalk.corpId));
    dingtalk.fail(APP_FAILED_LIST, 'truncated');
    const cut = await recover();
    expect(cut.status, cut.output).to.equal(1);
    expect(cut.output).to.contain('dingtalk-callback recover: failed at reply: a failed-list reply is not JSON (cut short, or not from DingTalk): it is set aside whole');
    expect(cut.output).to.contain('recovered 0 items from 1 page: 0 new, 0 already stored before it; the reply that could not be read is set aside whole (recover --set-aside lists it)');
    expect(cut.output).to.contain('2 set-aside items kept in the inbox');
    expect((await recover()).status, 'the next run is not held up').to.equal(0);

    // DingTalk's errmsg is its text, not ours: shown with its control characters escaped.
    dingtalk.busyMessage = '\u001b[2J\u001b[Hall clear';
    dingtalk.fail(APP_FAILED_LIST, 'errcode', 4);
    const busy = await recover();
    expect(busy.status).to.equal(1);
    expect(busy.output).to.contain('failed at call_back/get_call_back_failed_result: DingTalk errcode -1: \\u001b[2J\\u001b[Hall clear').and.not.contain('\u001b');
  });

  it('finishes a reply an earlier run left half-processed', async function () {
    const items = [eventIdItem(`half-1`, dingtalk.corpId), eventIdItem(`half-2`, dingtalk.corpId), eventIdItem(`half-3`, dingtalk.corpId)];
    await inbox.add(`app:${dingtalk.appKey}`, JSON.stringify({ errcode: 0, errmsg: 'ok', has_more: false, failed_list: items }));
    dingtalk.failed.push(items[0]!);
    // A run stored the first item and stopped: here, a run that read only that one.
    const first = await recover();
    expect(first.output).to.contain('1 left by an earlier run');
    expect(first.output).to.contain('recovered 4 items from 1 page, 1 left by an earlier run: 3 new, 1 already stored');
    for (const n of [1, 2, 3]) expect(await storedByEventId(store, `half-${n}`)).to.include({ source: 'recovered' });
    expect(await inbox.pending(`app:${dingtalk.appKey}`)).to.deep.equal([]);
  });

  it('a wrong secret exits 1 at gettoken with DingTalk\'s errcode and errmsg, and prints no secret', async function () {
    dingtalk.failed.push(approvalItem(1, dingtalk.corpId));
    const { status, output } = await recover({ DINGTALK_APP_SECRET: 'wrong-secret-value' });
    expect(status).to.equal(1);
    expect(output).to.contain('failed at gettoken: DingTalk errcode 40089: 不合法的corpid或corpsecret\nnothing was read from the failed list: run recover again once the cause is fixed\n');
    expect(output).not.to.contain('wrong-secret-value');
    expect(dingtalk.failed).to.have.length(1);
  });

  it('without app credentials says which variable to set (exit 2)', async function () {
    const { status, output } = await cli(['recover', '--endpoint', dynamo.endpoint], { DINGTALK_API_BASE: dingtalk.url });
    expect(status).to.equal(2);
    expect(output).to.contain('DINGTALK_APP_KEY: is not set; DINGTALK_APP_SECRET: is not set\n"dingtalk-callback recover --help" lists the settings it reads from the environment.\nTo try it with no DingTalk app: DINGTALK_SANDBOX=true, here and for npm start');
  });

  it('an ISV suite: the token from the stored suite_ticket, pages by cursor, each confirmed after storing', async function () {
    await store.put({ id: `${dingtalk.suiteKey}:event:suite_ticket:ticket`, eventId: 'ticket', eventType: 'suite_ticket', ownerKey: dingtalk.suiteKey, source: 'push', receivedAt: new Date(Date.now() + 1000).toISOString(), payload: JSON.stringify({ EventType: 'suite_ticket', SuiteKey: dingtalk.suiteKey, SuiteTicket: dingtalk.suiteTicket, TimeStamp: Date.now() }) });
    for (let id = 1; id <= 130; id += 1) {
      dingtalk.suiteRecords.push({ id, corpid: 'dingisvcorp01', call_back_tag: 'user_leave_org', call_back_data: JSON.stringify({ UserId: [`u${id}`], 备注: '离职 👋', eventId: `isv-${id}` }), event_time: 1_764_000_000_000 + id, confirmed: false });
    }
    const suiteEnv = { DINGTALK_API_BASE: dingtalk.url, DINGTALK_SUITE_KEY: dingtalk.suiteKey, DINGTALK_SUITE_SECRET: dingtalk.suiteSecret, DINGTALK_SUITE_TAGS: 'user_leave_org', DINGTALK_API_BACKOFF_MS: '5' };
    const { status, output } = await cli(['recover', '--endpoint', dynamo.endpoint], suiteEnv);
    expect(status, output).to.equal(0);
    expect(output).to.contain('recovered 130 items from 2 pages: 130 new, 0 already stored');
    expect(dingtalk.suiteRecords.every((record) => record.confirmed)).to.equal(true);
    expect(dingtalk.calls.filter((call) => call.path === SUITE_FAILED_LIST).map((call) => (call.body!.req as { cursor?: number }).cursor)).to.deep.equal([undefined, undefined, 100, 100]);
    expect(await storedByEventId(store, `isv-42`)).to.include({ ownerKey: dingtalk.suiteKey, corpId: 'dingisvcorp01', source: 'recovered' });
    // Confirmed records are not listed again.
    expect((await cli(['recover', '--endpoint', dynamo.endpoint], suiteEnv)).output).to.contain('recovered 0 items from 1 page');
  });

  describe('callback-url', function () {
    let callback: CallbackServer;
    let secrets: Record<string, string>;
    before(async function () {
      secrets = freshDingTalkEnv();
    });
    beforeEach(async function () {
      callback = await startCallbackServer(loadSettings({ ...secrets, DINGTALK_OWNER_KEY: dingtalk.corpId }));
    });
    afterEach(() => callback.close());

    const run = (args: string[]) => cli(['callback-url', ...args], { ...env, ...secrets });

    it('registers a URL that answers check_url, shows it without its secrets, refuses a second, updates and deletes it', async function () {
      const registered = await run(['register', '--url', callback.url, '--tags', 'user_add_org,bpms_instance_change']);
      expect(registered.status, registered.output).to.equal(0);
      expect(dingtalk.registered).to.deep.equal({ call_back_tag: ['user_add_org', 'bpms_instance_change'], token: secrets.DINGTALK_TOKEN, aes_key: secrets.DINGTALK_AES_KEY, url: callback.url });
      const shown = await run(['get']);
      expect(shown.output).to.contain(`url   ${callback.url}`);
      expect(shown.output).to.contain('tags  user_add_org, bpms_instance_change');
      expect(shown.output).to.contain('token and AES key match');
      const again = await run(['register', '--url', callback.url, '--tags', 'user_add_org']);
      expect(again.status).to.equal(1);
      expect(again.output).to.contain('call_back/register_call_back: DingTalk errcode 71006: 回调地址已经存在');
      expect(again.output).to.contain('callback-url update');
      const updated = await run(['update', '--tags', 'user_leave_org']);
      expect(updated.status, updated.output).to.equal(0);
      expect(dingtalk.registered).to.include({ url: callback.url }).and.to.have.deep.property('call_back_tag', ['user_leave_org']);
      expect((await run(['delete'])).status).to.equal(0);
      expect(dingtalk.registered).to.equal(undefined);
      for (const result of [registered, shown, again, updated]) {
        expect(result.output).not.to.contain(secrets.DINGTALK_TOKEN);
        expect(result.output).not.to.contain(secrets.DINGTALK_AES_KEY);
        expect(result.output).not.to.contain(dingtalk.appSecret);
      }
    });

    it('shows what DingTalk holds with its control characters escaped', async function () {
      dingtalk.registered = { call_back_tag: ['user_add_org\u001b[2J'], token: 't', aes_key: 'k', url: 'https://example.com/\u009b2J\u202e' };
      const shown = await run(['get']);
      expect(shown.output).to.contain('url   https://example.com/\\u009b2J\\u202e\ntags  user_add_org\\u001b[2J\n');
      expect(shown.output).not.to.match(/[\u001b\u009b\u202e]/); // eslint-disable-line no-control-regex -- finding control characters is the point
    });

    it('says what the command line lacks before any setting, then names every missing setting at once, and calls DingTalk for neither', async function () {
      const noUrl = await cli(['callback-url', 'register', '--tags', 'user_add_org'], {});
      expect([noUrl.status, noUrl.output]).to.deep.equal([2, 'dingtalk-callback callback-url: register needs --url and --tags\nRun "dingtalk-callback callback-url --help" for usage.\n']);
      const badUrl = await run(['update', '--url', 'not a url']);
      expect(badUrl.output).to.contain('--url is not a URL: not a url');
      const nothing = await cli(['callback-url', 'register', '--url', callback.url, '--tags', 'user_add_org'], { DINGTALK_API_BASE: dingtalk.url });
      expect(nothing.status).to.equal(2);
      expect(nothing.output).to.contain('DINGTALK_APP_KEY: is not set; DINGTALK_APP_SECRET: is not set; DINGTALK_TOKEN: is not set; DINGTALK_AES_KEY: is not set\n');
      expect(nothing.output).to.contain('To try it with no DingTalk app: DINGTALK_SANDBOX=true');
      const shortKey = await cli(['callback-url', 'update'], { ...env, DINGTALK_TOKEN: 'token', DINGTALK_AES_KEY: 'short' });
      expect(shortKey.output).to.contain('DINGTALK_AES_KEY: must be exactly 43');
      expect(dingtalk.calls).to.deep.equal([]);
    });

    it('shows 71009 when the URL does not answer success', async function () {
      const wrong = await cli(['callback-url', 'register', '--url', callback.url, '--tags', 'user_add_org'], { ...env, ...freshDingTalkEnv() });
      expect(wrong.status).to.equal(1);
      expect(wrong.output).to.contain('DingTalk errcode 71009: 返回文本非success');
      expect(wrong.output).to.contain('same DINGTALK_TOKEN');
      expect(dingtalk.registered).to.equal(undefined);
    });
  });
});
