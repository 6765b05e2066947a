import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { createCallback } from '../../core/callback';
import { openReply } from '../../core/dingtalk-side';
import type { PushLog } from '../../core/log';
import { MemoryEventStore } from '../../core/memory-store';
import { syncPush, syncRow } from '../../cli/sync-rows';
import { SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { pushRequest } from '../../testkit/push';
import { describeSyncRows } from '../../testkit/sync-contract';

/** A store that fails every put after the first `allowed`, until `allowed` is raised. */
class FailingAfter extends MemoryEventStore {
  allowed = Infinity;
  override async put(...args: Parameters<MemoryEventStore['put']>) {
    if (this.allowed <= 0) throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
    this.allowed -= 1;
    return super.put(...args);
  }
}

describe('core/sync-push: SyncHTTP rows', function () {
  describeSyncRows('the memory store', async () => {
    const store = new MemoryEventStore();
    return { store, close: async () => {} };
  });

  describe('identity', function () {
    let store: MemoryEventStore;
    let logs: PushLog[];
    beforeEach(function () {
      store = new MemoryEventStore();
      logs = [];
    });
    const push = (message: string) => createCallback({ settings: SAMPLE_SETTINGS, store, log: (entry) => logs.push(entry) })(pushRequest(message));

    it('derives a row without eventId from (subscribe_id, corp_id, biz_type, biz_id, gmt_modified) under sync:', async function () {
      const row = syncRow('org_dept_create', { modified: 1_700_000_000_000, bizId: '4242' });
      await push(syncPush([row]));
      const [record] = (await store.list()).records;
      const hex = createHash('sha256').update(JSON.stringify([row.subscribe_id, row.corp_id, '14', '4242', '1700000000000'])).digest('hex');
      expect(record?.id).to.equal(`${SAMPLE_OWNER}:sync:${hex}`);
    });

    it('takes the eventId of biz_data as a push would: <ownerKey>:event:<syncAction>:<eventId>', async function () {
      await push(syncPush([syncRow('org_dept_create', { data: { eventId: 'e-77' } })]));
      expect((await store.list()).records[0]?.id).to.equal(`${SAMPLE_OWNER}:event:org_dept_create:e-77`);
    });

    it('answers 503 when a row cannot be stored, and stores the rest as new at the retry', async function () {
      const failing = new FailingAfter();
      failing.allowed = 3;
      const callback = createCallback({ settings: SAMPLE_SETTINGS, store: failing, log: (entry) => logs.push(entry) });
      const message = syncPush(Array.from({ length: 8 }, () => syncRow('org_dept_create')), 'SYNC_HTTP_PUSH_MEDIUM');
      expect((await callback(pushRequest(message))).statusCode).to.equal(503);
      expect((await failing.list()).records).to.have.length(3);
      failing.allowed = Infinity;
      const retry = await callback(pushRequest(message));
      expect(openReply(SAMPLE_SETTINGS, retry.body, SAMPLE_OWNER)).to.equal('success');
      expect(logs.at(-1)?.rows).to.deep.equal({ created: 5, duplicate: 3, refused: 0 });
      expect((await failing.list()).records).to.have.length(8);
    });
  });
});
