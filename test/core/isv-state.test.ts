import { expect } from 'chai';
import { buildRecord, parseMessage, toRecord, type EventRecord } from '../../core/events';
import { isStateId, isvStateOf, stateId } from '../../core/isv-state';
import { MemoryEventStore } from '../../core/memory-store';
import { rowRecord } from '../../core/sync-push';
import { syncRow } from '../../cli/sync-rows';

const SUITE = 'suitexvl6uynbsejmhpas';
const AT = new Date('2026-12-01T12:00:00.000Z');

/** The record of a legacy push of `fields` for the suite. */
const pushed = (fields: object) => toRecord(parseMessage(Buffer.from(JSON.stringify(fields))), SUITE, AT);

/** A record as the Stream relay makes one: the frame's data as the payload, its time from the headers. */
const streamed = (eventType: string, data: object, eventTime: number): EventRecord =>
  buildRecord({ ownerKey: SUITE, eventType, source: 'stream', receivedAt: AT, payload: JSON.stringify(data), bytes: Buffer.from(JSON.stringify(data)), eventId: `evt-${eventTime}`, eventTime });

describe('core/isv-state: what a record says of an ISV suite', function () {
  it('reads a ticket from a SyncHTTP row, a legacy push and a Stream event alike, each with its own time', function () {
    const row = rowRecord(JSON.stringify(syncRow('suite_ticket', { ticket: 'row-ticket', modified: 1_700_000_100_000, suiteId: '27001001' })), SUITE, AT);
    expect(isvStateOf(row, AT)).to.deep.equal({ kind: 'suite_ticket', suiteKey: SUITE, ticket: 'row-ticket', time: 1_700_000_100_000, suiteId: '27001001', recordId: row.id, storedAt: AT.toISOString() });
    const legacy = pushed({ EventType: 'suite_ticket', SuiteKey: SUITE, SuiteTicket: 'push-ticket', TimeStamp: 1_700_000_200_000 });
    expect(isvStateOf(legacy)).to.include({ kind: 'suite_ticket', ticket: 'push-ticket', time: 1_700_000_200_000 });
    expect(isvStateOf(streamed('suite_ticket', { suiteTicket: 'stream-ticket', syncAction: 'suite_ticket' }, 1_700_000_300_000))).to.include({ ticket: 'stream-ticket', time: 1_700_000_300_000 });
  });

  it('reads an authorisation with its status, corp, name and agents, and copies no permanent code', function () {
    const row = syncRow('org_suite_auth', { corpId: 'dingauthcorp0001', modified: 1_700_000_000_000 });
    const state = isvStateOf(rowRecord(JSON.stringify(row), SUITE, AT));
    expect(state).to.include({ kind: 'authorisation', status: 'authorised', corpId: 'dingauthcorp0001', corpName: '钉钉测试企业' });
    expect(JSON.stringify(state)).to.not.include((JSON.parse(String(row.biz_data)) as { permanent_code: string }).permanent_code);
    expect(isvStateOf(pushed({ EventType: 'suite_relieve', SuiteKey: SUITE, AuthCorpId: 'dingauthcorp0001', TimeStamp: 1_700_000_500_000 }))).to.include({ status: 'revoked', corpId: 'dingauthcorp0001', time: 1_700_000_500_000 });
    expect(isvStateOf(streamed('org_suite_change', { auth_corp_info: { corpid: 'dingauthcorp0002', corp_name: '流式企业' } }, 1_700_000_600_000))).to.include({ status: 'changed', corpId: 'dingauthcorp0002', corpName: '流式企业' });
  });

  it('says nothing for other events, a ticket event without a ticket, an authorisation naming no corp, or data that is no JSON', function () {
    expect(isvStateOf(pushed({ EventType: 'user_add_org', CorpId: 'dingx' }))).to.equal(undefined);
    expect(isvStateOf(pushed({ EventType: 'suite_ticket', SuiteKey: SUITE, TimeStamp: 1 }))).to.equal(undefined);
    expect(isvStateOf(pushed({ EventType: 'change_auth', SuiteKey: SUITE }))).to.equal(undefined);
    expect(isvStateOf(rowRecord(JSON.stringify({ ...syncRow('suite_ticket'), biz_data: 'not json' }), SUITE, AT))).to.equal(undefined);
  });

  it('keys states apart from every event id: a # no encoded ownerKey or hashed id begins with', function () {
    const ticket = stateId({ kind: 'suite_ticket', suiteKey: '#odd:key' });
    expect(ticket).to.equal('#suite_ticket#%23odd%3Akey');
    expect(isStateId(ticket)).to.equal(true);
    expect(isStateId(pushed({ EventType: 'suite_ticket', SuiteTicket: 't', TimeStamp: 1 }).id)).to.equal(false);
    expect(stateId({ kind: 'authorisation', suiteKey: 'a', corpId: 'b#c' })).to.not.equal(stateId({ kind: 'authorisation', suiteKey: 'a#b', corpId: 'c' }));
  });

  it('keeps the newest state when two writes race, whichever lands first', async function () {
    const store = new MemoryEventStore();
    const tickets = [5, 1, 4, 2, 3].map((n) => rowRecord(JSON.stringify(syncRow('suite_ticket', { ticket: `t${n}`, modified: 1_700_000_000_000 + n })), SUITE, AT));
    await Promise.all(tickets.map((record) => store.put(record)));
    expect((await store.suiteTicket(SUITE))?.ticket).to.equal('t5');
  });
});
