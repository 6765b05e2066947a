import { expect } from 'chai';
import { createCallback } from '../core/callback';
import { openReply } from '../core/dingtalk-side';
import type { EventRecord } from '../core/events';
import type { EventStore } from '../core/listing';
import type { PushLog } from '../core/log';
import { syncPush, syncRow } from '../cli/sync-rows';
import { SAMPLE_OWNER, SAMPLE_SETTINGS } from './fixtures';
import { pushRequest } from './push';

/** A store under test over a fresh table, and how to let it go. */
export interface SyncSubject {
  store: EventStore;
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
