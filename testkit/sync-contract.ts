import { expect } from 'chai';
import { createCallback } from '../core/callback';
import { openReply } from '../core/dingtalk-side';
import type { EventRecord } from '../core/events';
import type { AuthorisationState, IsvStateStore } from '../core/isv-state';
import type { EventStore } from '../core/listing';
import type { PushLog } from '../core/log';
import { syncPush, syncRow } from '../cli/sync-rows';
import { SAMPLE_OWNER, SAMPLE_SETTINGS } from './fixtures';
import { pushRequest } from './push';

/** A store under test over a fresh table, and how to let it go. */
export interface SyncSubject {
  store: EventStore & IsvStateStore;
  close: () => Promise<void>;
}

/** Every record of a store (the tests hold far fewer than a page). */
export async function allRecords(store: Pick<EventStore, 'list'>): Promise<EventRecord[]> {
  return (await store.list({ limit: 1000 })).records;
}

/**
 * What every store does with SyncHTTP rows, through the callback (docs/isv.md): one record per
 * row, redeliveries stored once, each malformed row on its own terms.
 */
export function describeSyncRows(name: string, open: () => Promise<SyncSubject>): void {
  describe(`${name}: SyncHTTP rows`, function () {
    let subject: SyncSubject;
    let logs: PushLog[];
    beforeEach(async function () {
      subject = await open();
      logs = [];
    });
    afterEach(async function () {
      await subject.close();
    });

    const push = async (message: string) => {
      const response = await createCallback({ settings: SAMPLE_SETTINGS, store: subject.store, log: (entry) => logs.push(entry) })(pushRequest(message));
      expect(response.statusCode, response.body).to.equal(200);
      expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
      return logs.at(-1)!;
    };

    it('stores a 50-row push as 50 records, and its redelivery as none new', async function () {
      const rows = Array.from({ length: 50 }, (_, n) => syncRow(n % 2 ? 'org_dept_create' : 'user_add_org', { bizId: `obj-${n}` }));
      const message = syncPush(rows, 'SYNC_HTTP_PUSH_MEDIUM');
      expect((await push(message)).rows).to.deep.equal({ created: 50, duplicate: 0, refused: 0 });
      const stored = await allRecords(subject.store);
      expect(stored).to.have.length(50);
      expect(stored.map((record) => record.payload)).to.have.members(rows.map((row) => JSON.stringify(row)));
      const first = stored.find((record) => record.payload === JSON.stringify(rows[1]));
      expect(first).to.include({ source: 'sync', eventType: 'org_dept_create', ownerKey: SAMPLE_OWNER, corpId: rows[1]!.corp_id, eventTime: rows[1]!.gmt_modified });
      expect((await push(message)).rows).to.deep.equal({ created: 0, duplicate: 50, refused: 0 });
      expect(await allRecords(subject.store)).to.have.length(50);
    });

    it('keeps two versions of one object as two records', async function () {
      const older = syncRow('org_dept_modify', { bizId: '5151', modified: 1_700_000_000_000, id: 1 });
      const newer = syncRow('org_dept_modify', { bizId: '5151', modified: 1_700_000_360_000, id: 2 });
      await push(syncPush([older], 'SYNC_HTTP_PUSH_MEDIUM'));
      await push(syncPush([newer, older], 'SYNC_HTTP_PUSH_MEDIUM'));
      const stored = await allRecords(subject.store);
      expect(stored.map((record) => record.eventTime).sort()).to.deep.equal([1_700_000_000_000, 1_700_000_360_000]);
    });

    it('lists rows by their syncAction', async function () {
      await push(syncPush([syncRow('org_suite_auth', { corpId: 'dingaaa' }), syncRow('suite_ticket'), syncRow('org_suite_auth', { corpId: 'dingbbb' })]));
      const { records } = await subject.store.list({ eventType: 'org_suite_auth' });
      expect(records).to.have.length(2);
      expect(records.every((record) => record.source === 'sync')).to.equal(true);
    });

    it('keeps each row verbatim: integers beyond 2^53 and escapes as sent', async function () {
      const row = '{"id":123456789012345678901,"gmt_modified":1700000000000,"subscribe_id":"27001001_0","corp_id":"ding\\u0031","biz_id":"9","biz_type":14,"biz_data":"{\\"syncAction\\":\\"org_dept_create\\",\\"name\\":\\"\\u4ea7\\u54c1\\"}"}';
      await push(`{"EventType":"SYNC_HTTP_PUSH_MEDIUM","bizData":[ ${row} ]}`);
      const [record] = await allRecords(subject.store);
      expect(record?.payload).to.equal(row);
      expect(record).to.include({ eventType: 'org_dept_create', corpId: 'ding1' });
    });

    describe('the suite\'s state', function () {
      const ticketRow = (ticket: string, modified: number) => syncRow('suite_ticket', { ticket, modified });
      const legacyTicket = (ticket: string, time: number) => JSON.stringify({ EventType: 'suite_ticket', SuiteKey: SAMPLE_OWNER, SuiteTicket: ticket, TimeStamp: time });

      it('keeps the latest ticket per suite, whatever order the tickets arrive in, from rows and legacy pushes alike', async function () {
        await push(syncPush([ticketRow('ticket-2', 1_700_000_200_000)]));
        await push(syncPush([ticketRow('ticket-1', 1_700_000_100_000)]));
        expect(await subject.store.suiteTicket(SAMPLE_OWNER)).to.include({ ticket: 'ticket-2', time: 1_700_000_200_000, suiteId: '27001001', suiteKey: SAMPLE_OWNER });
        await push(legacyTicket('ticket-0', 1_700_000_000_000));
        expect((await subject.store.suiteTicket(SAMPLE_OWNER))?.ticket).to.equal('ticket-2');
        await push(legacyTicket('ticket-3', 1_700_000_300_000));
        expect((await subject.store.suiteTicket(SAMPLE_OWNER))?.ticket).to.equal('ticket-3');
        // One push carrying two versions, newer first: the newer still wins.
        await push(syncPush([ticketRow('ticket-5', 1_700_000_500_000), ticketRow('ticket-4', 1_700_000_400_000)]));
        expect((await subject.store.suiteTicket(SAMPLE_OWNER))?.ticket).to.equal('ticket-5');
        expect(await subject.store.suiteTicket('suite-never-seen')).to.equal(undefined);
        // Every ticket is an event as well; the state items are in no listing.
        const stored = await allRecords(subject.store);
        expect(stored.map((record) => record.eventType)).to.deep.equal(Array(6).fill('suite_ticket'));
        expect((await subject.store.list({ eventType: 'suite_ticket' })).records).to.have.length(6);
      });

      it('keeps each organisation\'s authorisation: authorised, changed, revoked, newest wins, with its name and agents', async function () {
        const corpId = 'dingcorpauth0001';
        await push(syncPush([syncRow('org_suite_auth', { corpId, modified: 1_700_000_000_000 })]));
        await push(syncPush([syncRow('org_suite_auth', { corpId: 'dingcorpother002', modified: 1_700_000_050_000 })]));
        const authorised = (await subject.store.isvStates()).find((state): state is AuthorisationState => state.kind === 'authorisation' && state.corpId === corpId);
        expect(authorised).to.include({ status: 'authorised', action: 'org_suite_auth', corpName: '钉钉测试企业', time: 1_700_000_000_000, suiteKey: SAMPLE_OWNER });
        expect(authorised?.agentIds).to.have.length(1).and.to.match(/^\d+$/);
        await push(syncPush([syncRow('org_suite_relieve', { corpId, modified: 1_700_000_200_000 })]));
        await push(syncPush([syncRow('org_suite_change', { corpId, modified: 1_700_000_100_000 })]));
        const states = await subject.store.isvStates();
        expect(states.filter((state) => state.kind === 'authorisation').map((state) => [state.kind === 'authorisation' && state.corpId, state.kind === 'authorisation' && state.status]).sort()).to.deep.equal([
          [corpId, 'revoked'],
          ['dingcorpother002', 'authorised'],
        ]);
        expect(JSON.stringify(states)).to.not.include('permanent_code');
        // Legacy pushes speak for the same state: a change_auth after the revocation authorises again, as changed.
        await push(JSON.stringify({ EventType: 'change_auth', SuiteKey: SAMPLE_OWNER, AuthCorpId: corpId, TimeStamp: 1_700_000_300_000 }));
        expect((await subject.store.isvStates()).find((state) => state.kind === 'authorisation' && state.corpId === corpId)).to.include({ status: 'changed', action: 'change_auth' });
      });

      it('never logs the permanent code or the ticket of a row', async function () {
        const row = syncRow('org_suite_auth', { corpId: 'dingsecretcorp01' });
        const permanentCode = (JSON.parse(String(row.biz_data)) as { permanent_code: string }).permanent_code;
        const ticket = 'ticket-that-must-not-be-logged';
        expect((await push(syncPush([row, syncRow('suite_ticket', { ticket })]))).rows).to.deep.equal({ created: 2, duplicate: 0, refused: 0 });
        const lines = logs.map((entry) => JSON.stringify(entry)).join('\n');
        expect(lines).to.not.include(permanentCode);
        expect(lines).to.not.include(ticket);
        expect((await subject.store.suiteTicket(SAMPLE_OWNER))?.ticket).to.equal(ticket);
      });
    });

    describe('malformed rows, each on its own terms', function () {
      it('answers a push with no rows with success and stores nothing', async function () {
        expect((await push('{"EventType":"SYNC_HTTP_PUSH_HIGH","bizData":[]}')).rows).to.deep.equal({ created: 0, duplicate: 0, refused: 0 });
        expect(await allRecords(subject.store)).to.deep.equal([]);
      });

      it('stores a push whose bizData is no array whole, as one record of its EventType', async function () {
        const message = '{"EventType":"SYNC_HTTP_PUSH_HIGH","bizData":{"oops":1}}';
        await push(message);
        const stored = await allRecords(subject.store);
        expect(stored.map((record) => [record.eventType, record.source, record.payload])).to.deep.equal([['SYNC_HTTP_PUSH_HIGH', 'push', message]]);
      });

      it('stores a row that is no object as a sync_row record keyed by its bytes, once', async function () {
        const message = `{"EventType":"SYNC_HTTP_PUSH_MEDIUM","bizData":[null,"text",7,[1,2],${JSON.stringify(syncRow('org_dept_create'))}]}`;
        await push(message);
        expect((await push(message)).rows).to.deep.equal({ created: 0, duplicate: 5, refused: 0 });
        const stored = await allRecords(subject.store);
        expect(stored.filter((record) => record.eventType === 'sync_row').map((record) => record.payload)).to.have.members(['null', '"text"', '7', '[1,2]']);
        expect(stored.every((record) => record.id.startsWith(`${SAMPLE_OWNER}:sync:`))).to.equal(true);
      });

      it('stores a row whose biz_data is not JSON text as biz_type_<n>, keyed by its object', async function () {
        const rows = ['not json', { syncAction: 'as an object' }, 42, '[1]'].map((biz_data, n) => ({ ...syncRow('org_dept_create', { bizId: `b${n}` }), biz_data }));
        await push(syncPush(rows, 'SYNC_HTTP_PUSH_MEDIUM'));
        const stored = await allRecords(subject.store);
        expect(stored.map((record) => record.eventType)).to.deep.equal(['biz_type_14', 'biz_type_14', 'biz_type_14', 'biz_type_14']);
      });

      it('stores a row lacking part of its object name by its bytes, distinct from its neighbours', async function () {
        const { biz_id: _b, ...first } = syncRow('org_dept_create', { modified: 1_700_000_000_000 });
        const { biz_id: _c, ...second } = syncRow('org_dept_create', { modified: 1_700_000_000_000 });
        await push(syncPush([first, second], 'SYNC_HTTP_PUSH_MEDIUM'));
        expect(await allRecords(subject.store)).to.have.length(2);
      });
    });
  });
}
