import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { BadRequestError } from '../../core/errors';
import { capField, MAX_FIELD_BYTES, parseMessage, recordId, toRecord } from '../../core/events';
import { eventFixtureNames, eventText, recordId as documentedId } from '../../testkit/fixtures';

const RECEIVED = new Date('2026-11-27T12:00:00.000Z');
const OWNER = 'ding6ccabc44d2c8d38b';

function recordOf(text: string) {
  return toRecord(parseMessage(Buffer.from(text, 'utf8')), OWNER, RECEIVED);
}

const sha256 = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

describe('core/events', function () {
  it('has a fixture for every family of docs/protocol.md', function () {
    expect(eventFixtureNames()).to.include.members([
      'user_add_org', 'org_dept_create', 'bpms_instance_change', 'bpms_task_change', 'attendance_check_record',
      'suite_ticket', 'tmp_auth_code', 'check_create_suite_url', 'check_url', 'chat_add_member', 'sync_http_push_high',
    ]);
  });

  const expected: Record<string, Record<string, unknown>> = {
    user_add_org: { eventType: 'user_add_org', corpId: OWNER, eventTime: 1700000000123 },
    org_dept_create: { eventType: 'org_dept_create', corpId: OWNER, eventTime: 1700000001456 },
    org_dept_modify_trailing_space: { eventType: 'org_dept_modify', corpId: OWNER, eventTime: 1700000002789 },
    bpms_instance_change: { eventType: 'bpms_instance_change', corpId: OWNER, eventTime: 1700000003000, processInstanceId: 'a171de6c-8bb1-4a3e-b2d4-5f1e6c8d9e01' },
    bpms_task_change: { eventType: 'bpms_task_change', corpId: OWNER, eventTime: 1700000004000, processInstanceId: 'a171de6c-8bb1-4a3e-b2d4-5f1e6c8d9e01' },
    attendance_check_record: { eventType: 'attendance_check_record' },
    suite_ticket: { eventType: 'suite_ticket', eventTime: 1700000007000 },
    tmp_auth_code: { eventType: 'tmp_auth_code', corpId: 'ding9f50b15bccd16741', eventTime: 1700000008000 },
    check_create_suite_url: { eventType: 'check_create_suite_url' },
    check_url: { eventType: 'check_url' },
    chat_add_member: { eventType: 'chat_add_member', corpId: OWNER, eventTime: 1700000009000 },
    sync_http_push_high: { eventType: 'SYNC_HTTP_PUSH_HIGH' },
    unknown_future_event: { eventType: 'calendar_event_change', corpId: OWNER, eventTime: 1700000011000 },
  };

  for (const name of eventFixtureNames()) {
    it(`derives the record of ${name}`, function () {
      const text = eventText(name);
      const fields = JSON.parse(text) as Record<string, unknown>;
      const ownId = typeof fields.eventId === 'string' ? { eventId: fields.eventId } : {};
      expect(recordOf(text)).to.deep.equal({ id: documentedId(text, OWNER), ...ownId, ownerKey: OWNER, source: 'push', receivedAt: '2026-11-27T12:00:00.000Z', payload: text, ...expected[name] });
    });
  }

  it('keeps the payload verbatim, spacing and key order included', function () {
    const text = '{ "TimeStamp" : "1700000000000",\n  "EventType":"user_leave_org", "UserId":["a"] }';
    expect(recordOf(text).payload).to.equal(text);
    expect(recordOf(text).id).to.equal(`${OWNER}:sha256:${sha256(text)}`);
  });

  it('keeps a leading byte-order mark in the payload and in the hashed bytes', function () {
    const text = `\uFEFF${eventText('user_add_org')}`;
    expect(recordOf(text)).to.include({ payload: text, eventType: 'user_add_org', id: `${OWNER}:sha256:${sha256(text)}` });
  });

  it('falls back to the content hash when eventId is empty or not a string', function () {
    for (const eventId of ['', 42, null]) {
      const text = eventText('user_add_org', { eventId });
      expect(recordOf(text).id).to.equal(`${OWNER}:sha256:${sha256(text)}`);
      expect(recordOf(text)).to.not.have.property('eventId');
    }
  });

  describe('identity', function () {
    const idOf = (text: string, ownerKey = OWNER) => toRecord(parseMessage(Buffer.from(text, 'utf8')), ownerKey, RECEIVED).id;

    it('is one id for every delivery of one event to one owner', function () {
      const text = eventText('user_add_org');
      expect(idOf(text)).to.equal(idOf(text));
      expect(idOf(eventText('user_add_org', { eventId: 'e1' }))).to.equal(idOf(eventText('user_add_org', { eventId: 'e1' })));
    });

    it('tells apart (a) one message for two ownerKeys', function () {
      for (const text of [eventText('user_add_org'), eventText('user_add_org', { eventId: 'e1' })]) {
        expect(idOf(text, 'dingcorpa')).to.not.equal(idOf(text, 'dingcorpb'));
      }
    });

    it("tells apart (b) an eventId equal to another message's derived hash", function () {
      const hashed = eventText('user_add_org');
      const mimic = eventText('user_add_org', { eventId: sha256(hashed) });
      expect(idOf(mimic)).to.not.equal(idOf(hashed));
      expect(idOf(eventText('user_add_org', { eventId: idOf(hashed) }))).to.not.equal(idOf(hashed));
    });

    it('tells apart (c) one eventId under two EventTypes', function () {
      expect(idOf(eventText('user_add_org', { eventId: 'e1' }))).to.not.equal(idOf(eventText('user_add_org', { EventType: 'user_modify_org', eventId: 'e1' })));
    });

    it('cannot be forged across fields by a colon in the ownerKey or EventType', function () {
      const a = recordId({ ownerKey: 'a:event:b', eventType: 'c', eventId: 'd', bytes: Buffer.from('') });
      const b = recordId({ ownerKey: 'a', eventType: 'b:event:c', eventId: 'd', bytes: Buffer.from('') });
      expect(a).to.not.equal(b);
    });

    it('hashes an id over 512 bytes, in a namespace of its own, and agrees with the documented rule', function () {
      const text = eventText('user_add_org', { eventId: 'e'.repeat(3000) });
      expect(idOf(text)).to.match(/^hash:[0-9a-f]{64}$/).and.equal(documentedId(text, OWNER));
      expect(recordOf(text).eventId).to.equal(capField('e'.repeat(3000)));
    });
  });

  it('caps derived fields, keeping the payload whole', function () {
    const long = '钉'.repeat(70_000); // 210 KB
    const text = eventText('bpms_instance_change', { CorpId: long, processInstanceId: long, EventType: `x${long}` });
    const record = recordOf(text);
    for (const field of [record.corpId, record.processInstanceId, record.eventType]) expect(Buffer.byteLength(field ?? '')).to.be.at.most(MAX_FIELD_BYTES);
    expect(record.corpId).to.equal(capField(long)).and.not.equal(capField(`${long}x`));
    expect(record.payload).to.equal(text);
    expect(capField('short')).to.equal('short');
  });

  it('ignores times that are not whole milliseconds', function () {
    for (const TimeStamp of ['soon', '12.5', -1, 1.5, true, '']) {
      expect(recordOf(eventText('user_add_org', { TimeStamp }))).to.not.have.property('eventTime');
    }
  });

  const invalid: Array<[string, Buffer]> = [
    ['not JSON', Buffer.from('EventType=user_add_org')],
    ['a JSON array', Buffer.from('[{"EventType":"user_add_org"}]')],
    ['JSON null', Buffer.from('null')],
    ['no EventType', Buffer.from('{"eventType":"user_add_org"}')],
    ['a numeric EventType', Buffer.from('{"EventType":7}')],
    ['a blank EventType', Buffer.from('{"EventType":"  "}')],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"EventType":"x","t":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
  ];
  for (const [what, bytes] of invalid) {
    it(`rejects a message that is ${what}`, function () {
      expect(() => parseMessage(bytes)).to.throw(BadRequestError);
    });
  }
});
