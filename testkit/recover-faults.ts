import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { InboxEntry, RecoverInbox } from '../core/inbox';
import type { EventStore } from '../core/listing';
import { accessTokenFor, APP_FAILED_LIST, loadRecoverSettings, recover, RecoverError, setAsideEntries, type RecoverSettings } from '../core/recover';
import { eventIdItem, FakeDingTalk, type FailedListItem } from './fake-dingtalk';
import { storedByEventId } from './store-contract';

/** A cloud's store and inbox, fresh for each test. */
export interface RecoverSubject {
  store: () => EventStore;
  inbox: () => RecoverInbox;
  /** Whether the store holds an item of 560 KB of incompressible data (Tablestore does; DynamoDB's 400 KB item does not). */
  holdsLargeItems: boolean;
}

/** An attendance item of about 560 KB that gzip cannot shrink below 400 KB. */
function largeItem(n: number, corpId: string): FailedListItem {
  return { call_back_tag: 'attendance_check_record', event_time: 1_764_000_000_000 + n, attendance_check_record: { corpid: corpId, eventId: `large-${n}`, DataList: [{ userId: `user${n}`, blob: randomBytes(420_000).toString('base64') }] } };
}

/**
 * The hostile failed lists of the recover issue, against the fake DingTalk over HTTP and a cloud's
 * own store and inbox: whatever a run read is stored, set aside or kept for the next run, never
 * lost, never in the way of a later run, and the summary says which.
 */
export function itLosesNothingItRead(subject: RecoverSubject): void {
  let dingtalk: FakeDingTalk;
  let settings: RecoverSettings;
  beforeEach(async function () {
    dingtalk = await new FakeDingTalk().start();
    settings = loadRecoverSettings({ DINGTALK_API_BASE: dingtalk.url, DINGTALK_APP_KEY: dingtalk.appKey, DINGTALK_APP_SECRET: dingtalk.appSecret, DINGTALK_API_TIMEOUT_MS: '2000' });
  });
  afterEach(() => dingtalk.stop());
  const run = (store: Parameters<typeof recover>[0]['store'] = subject.store()) => recover({ settings, token: accessTokenFor(settings), store, inbox: subject.inbox(), retryDelaysMs: [5] });
  const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('the run should have failed'), (error: unknown) => error as RecoverError);

  it('keeps a reply of 1.7 MB whole in the inbox before parsing it, then stores or sets aside each of its items on its own', async function () {
    const large = [0, 1, 2].map((n) => largeItem(n, dingtalk.corpId));
    const small = Array.from({ length: 40 }, (_, n) => eventIdItem(`small-${n}`, dingtalk.corpId, n));
    dingtalk.failed.push(large[0]!, ...small.slice(0, 20), large[1]!, ...small.slice(20), large[2]!);
    const store = subject.store();
    const inbox = subject.inbox();
    let keptAtFirstPut: InboxEntry[] | undefined;
    const watched = { put: async (record: Parameters<EventStore['put']>[0]) => {
      keptAtFirstPut ??= await inbox.pending(settings.source);
      return store.put(record);
    } };
    const summary = await run(watched);
    const [reply] = dingtalk.sent.filter((sent) => sent.path === APP_FAILED_LIST);
    expect(Buffer.byteLength(reply!.text), 'over every store row').to.be.above(1.6 * 1024 * 1024);
    expect(keptAtFirstPut?.map((entry) => entry.body), 'the raw reply, kept before any item was stored').to.deep.equal([reply!.text]);
    expect(summary).to.deep.equal({ pages: 1, resumed: 0, items: 43, created: subject.holdsLargeItems ? 43 : 40, duplicate: 0, handshakes: 0, setAside: subject.holdsLargeItems ? 0 : 3 });
    const stored = (await store.list({ limit: 1000 })).records;
    expect(stored.filter((record) => record.eventId?.startsWith('small-') && record.source === 'recovered').map((record) => record.eventId).sort()).to.deep.equal(small.map((_, n) => `small-${n}`).sort());
    const aside = await setAsideEntries(inbox, settings);
    if (subject.holdsLargeItems) {
      expect(aside).to.deep.equal([]);
      expect(stored.find((record) => record.eventId === 'large-1')?.payload).to.equal(JSON.stringify(large[1]!.attendance_check_record));
    } else {
      expect(aside.map((entry) => entry.text).sort()).to.deep.equal(large.map((item) => JSON.stringify(item)).sort());
      expect(aside[0]!.reason).to.match(/takes \d+ bytes/);
    }
    expect(await inbox.pending(settings.source)).to.deep.equal([]);
    expect(await run()).to.include({ pages: 1, items: 0 });
  });

  it('sets aside an item whose call_back_tag names no data of its own (constructor), stores one whose data is its own (toString), and no later run is held up', async function () {
    const inherited = { call_back_tag: 'constructor', event_time: 1_764_000_000_001 };
    const own = { call_back_tag: 'toString', event_time: 1_764_000_000_002, toString: { corpid: dingtalk.corpId, eventId: 'own-tostring' } };
    dingtalk.failed.push(inherited as FailedListItem, own as unknown as FailedListItem, eventIdItem('beside', dingtalk.corpId));
    const store = subject.store();
    expect(await run(store)).to.deep.equal({ pages: 1, resumed: 0, items: 3, created: 2, duplicate: 0, handshakes: 0, setAside: 1 });
    expect(await storedByEventId(store, 'own-tostring')).to.include({ eventType: 'toString', payload: JSON.stringify(own.toString) });
    expect(await storedByEventId(store, 'beside')).to.include({ source: 'recovered' });
    expect((await setAsideEntries(subject.inbox(), settings)).map(({ reason, text }) => ({ reason, text }))).to.deep.equal([{ reason: 'carries no data under its call_back_tag "constructor"', text: JSON.stringify(inherited) }]);
    dingtalk.failed.push(eventIdItem('later', dingtalk.corpId));
    expect(await run(store)).to.include({ pages: 1, items: 1, created: 1 });
  });

  it('keeps a reply cut short (HTTP 200, half its JSON) whole, sets it aside, fails the run naming it, and the next run reads on', async function () {
    dingtalk.pageSize = 3;
    for (let n = 0; n < 5; n += 1) dingtalk.failed.push(eventIdItem(`cut-${n}`, dingtalk.corpId, n));
    dingtalk.fail(APP_FAILED_LIST, 'truncated');
    const error = await failure(run());
    expect(error).to.be.instanceOf(RecoverError).and.include({ step: 'reply', left: 0 });
    expect(error.message).to.match(/^reply: a failed-list reply is not JSON .*set aside whole/);
    const [cut] = dingtalk.sent.filter((sent) => sent.path === APP_FAILED_LIST);
    const aside = await setAsideEntries(subject.inbox(), settings);
    expect(aside.map(({ reason, text }) => ({ reason, text }))).to.deep.equal([{ reason: 'the reply is not JSON (cut short, or not from DingTalk)', text: cut!.text }]);
    expect(await subject.inbox().pending(settings.source), 'nothing in the way of the next run').to.deep.equal([]);
    const store = subject.store();
    expect(await run(store)).to.include({ pages: 1, items: 2, created: 2 });
    expect(await storedByEventId(store, 'cut-4')).to.include({ source: 'recovered' });
  });

  it('ends the pass at an empty page whatever has_more says: one list call, not the month\'s quota', async function () {
    dingtalk.fail(APP_FAILED_LIST, 'empty-has-more', 10_000);
    expect(await run()).to.deep.equal({ pages: 1, resumed: 0, items: 0, created: 0, duplicate: 0, handshakes: 0, setAside: 0 });
    expect(dingtalk.count(APP_FAILED_LIST)).to.equal(1);
    expect(await subject.inbox().pending(settings.source)).to.deep.equal([]);
  });

  it('counts recovered handshakes (check_url, a suite check) and stores none of them, as pushed ones are not', async function () {
    dingtalk.failed.push(
      { call_back_tag: 'check_url', event_time: 1, check_url: { EventType: 'check_url' } },
      { call_back_tag: 'check_update_suite_url', event_time: 2, check_update_suite_url: { Random: 'r4nd0m' } },
      eventIdItem('real', dingtalk.corpId),
    );
    const store = subject.store();
    expect(await run(store)).to.include({ items: 3, created: 1, handshakes: 2 });
    expect((await store.list({ eventType: 'check_url' })).records).to.deep.equal([]);
    expect((await store.list({ eventType: 'check_update_suite_url' })).records).to.deep.equal([]);
  });

  it('sets the same item aside once however often it is read', async function () {
    const inherited = { call_back_tag: 'valueOf', event_time: 7 } as FailedListItem;
    for (let pass = 0; pass < 2; pass += 1) {
      dingtalk.failed.push(structuredClone(inherited));
      expect(await run()).to.include({ setAside: 1 });
    }
    expect(await setAsideEntries(subject.inbox(), settings)).to.have.length(1);
  });
}
