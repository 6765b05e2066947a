import { expect } from 'chai';
import { rowRecord } from '../../core/sync-push';
import { syncRow } from '../../cli/sync-rows';
import { ensureEventTable } from '../../providers/local/events-table';
import { LOCAL_TABLE_NAME, openLocalEventStore } from '../../providers/local/local-dynamodb';
import { runCli } from '../../testkit/cli';
import { startTestDynamoDb, type TestDynamoDb } from '../../testkit/dynamodb';

const SUITE = 'suitexvl6uynbsejmhpas';

describe('dingtalk-callback suite (the local store on dynalite)', function () {
  let dynamo: TestDynamoDb;
  let store: string[];
  // A store of its own per test: the CLI reads the local store's one table.
  beforeEach(async function () {
    dynamo = await startTestDynamoDb();
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    store = ['--endpoint', dynamo.endpoint];
  });
  afterEach(async function () {
    dynamo.client.destroy();
    await dynamo.server.close();
  });
  /** Stores `rows` as the callback stores them, each row's state kept. */
  async function holding(rows: Array<Record<string, unknown>>): Promise<void> {
    const local = openLocalEventStore(dynamo.endpoint);
    for (const row of rows) await local.put(rowRecord(JSON.stringify(row), SUITE, new Date()));
  }

  it("shows the suite's latest ticket hidden with its age, the organisations newest first, and the ticket only with --show-ticket", async function () {
    const now = Date.now();
    const auth = syncRow('org_suite_auth', { corpId: 'dingcliauth00001', modified: now - 3_600_000 });
    await holding([
      syncRow('suite_ticket', { ticket: 'the-current-ticket', modified: now - 12 * 60_000 }),
      syncRow('suite_ticket', { ticket: 'an-older-ticket', modified: now - 3 * 3_600_000 }),
      auth,
      syncRow('org_suite_relieve', { corpId: 'dingcliauth00002', modified: now - 60_000 }),
    ]);
    const permanentCode = (JSON.parse(String(auth.biz_data)) as { permanent_code: string }).permanent_code;
    const { status, stdout, stderr } = await runCli(['suite', ...store]);
    expect(status, stderr).to.equal(0);
    expect(stdout).to.match(new RegExp(`^Suites, latest suite_ticket\\nSUITE KEY +SUITE ID +ISSUED \\(UTC\\) +AGE +TICKET\\n${SUITE} +27001001 +\\S+ +12 min +hidden \\(--show-ticket\\)\\n`));
    expect(stdout).to.match(/Organisations: 1 authorising, 1 revoked\nSUITE KEY +CORP ID +NAME +STATUS +SINCE \(UTC\) +AGENT IDS\n\S+ +dingcliauth00002 +钉钉测试企业 +revoked .*\n\S+ +dingcliauth00001 +钉钉测试企业 +authorised +\S+ +\d+\n$/);
    expect(stdout).to.not.include('ticket-');
    expect(stdout + stderr).to.not.include(permanentCode);
    expect(stderr).to.equal('');

    const shown = await runCli(['suite', '--show-ticket', '--json', ...store]);
    const json = JSON.parse(shown.stdout) as { suites: Array<{ suiteKey: string; ticket: string; ageSeconds: number }>; organisations: Array<{ corpId: string; status: string; agentIds: string[] }> };
    expect(json.suites).to.have.length(1);
    expect(json.suites[0]).to.include({ suiteKey: SUITE, ticket: 'the-current-ticket' });
    expect(json.suites[0]!.ageSeconds).to.be.within(12 * 60 - 5, 12 * 60 + 600);
    expect(json.organisations.map((each) => [each.corpId, each.status])).to.deep.equal([['dingcliauth00002', 'revoked'], ['dingcliauth00001', 'authorised']]);
    expect(json.organisations[1]!.agentIds).to.have.length(1);
    expect(shown.stdout).to.not.include(permanentCode);
    expect((await runCli(['suite', '--json', ...store])).stdout).to.not.include('the-current-ticket');
  });

  it('says when no ticket is kept yet and what to set, and warns of a ticket older than 5 hours', async function () {
    const empty = await runCli(['suite', ...store]);
    expect(empty.status).to.equal(0);
    expect(empty.stdout).to.include('No suite_ticket is kept yet');
    await holding([syncRow('suite_ticket', { suiteId: '27009999', ticket: 'old', modified: Date.now() - 6 * 3_600_000 })]);
    const stale = await runCli(['suite', ...store]);
    expect(stale.stdout).to.match(/27009999 +\S+ +6 h 0 min/);
    expect(stale.stderr).to.include('1 ticket older than 5 hours');
    expect((await runCli(['suite', 'extra', ...store])).status).to.equal(2);
  });
});
