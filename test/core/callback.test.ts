import { expect } from 'chai';
import { createCallback, MAX_BODY_BYTES, type CallbackRequest, type CallbackResponse } from '../../core/callback';
import { encrypt } from '../../core/crypto';
import { StoreError } from '../../core/errors';
import type { PushLog } from '../../core/log';
import { MemoryEventStore } from '../../core/memory-store';
import { openReply } from '../../core/dingtalk-side';
import { decodeAesKey, loadSettings } from '../../core/settings';
import type { EventStore } from '../../core/listing';
import { eventFixtureNames, eventText, SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../../testkit/fixtures';
import { pushRequest, signedRequest } from '../../testkit/push';

/** A store whose backend is down until `up` is set. */
class FlakyStore extends MemoryEventStore {
  up = false;
  override async put(...args: Parameters<MemoryEventStore['put']>) {
    if (!this.up) throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
    return super.put(...args);
  }
}

describe('core/callback', function () {
  let store: MemoryEventStore;
  let logs: PushLog[];
  const callbackFor = (eventStore: EventStore = store, env = SAMPLE_ENV) =>
    createCallback({ settings: loadSettings(env), store: eventStore, log: (entry) => logs.push(entry) });

  beforeEach(function () {
    store = new MemoryEventStore();
    logs = [];
  });

  const replyOf = (response: CallbackResponse, ownerKey = SAMPLE_OWNER) => openReply(SAMPLE_SETTINGS, response.body, ownerKey);

  describe('accepted pushes', function () {
    for (const name of eventFixtureNames().filter((name) => !name.startsWith('check_'))) {
      it(`stores ${name} and answers an encrypted success`, async function () {
        const text = eventText(name);
        const response = await callbackFor()(pushRequest(text));
        expect(response.statusCode).to.equal(200);
        expect(response.headers['content-type']).to.match(/^application\/json/);
        expect(Object.keys(JSON.parse(response.body))).to.have.members(['msg_signature', 'timeStamp', 'nonce', 'encrypt']);
        expect(replyOf(response)).to.equal('success');
        const [record] = (await store.list()).records;
        expect((await store.list()).records).to.have.length(1);
        if (name.startsWith('sync_')) {
          // A SyncHTTP push's one row is the record (test/core/sync-push.test.ts has the rest).
          expect(record?.payload).to.equal(JSON.stringify((JSON.parse(text) as { bizData: unknown[] }).bizData[0]));
          expect(record?.source).to.equal('sync');
          expect(logs[0]).to.include({ outcome: 'created', status: 200 });
          return;
        }
        expect(record?.payload).to.equal(text);
        expect(logs).to.deep.include({ ...logs[0], outcome: 'created', status: 200, id: record?.id });
        expect(record?.source).to.equal('push');
      });
    }

    it('answers check_url with success and stores nothing', async function () {
      const response = await callbackFor()(pushRequest(eventText('check_url')));
      expect(replyOf(response)).to.equal('success');
      expect((await store.list()).records).to.deep.equal([]);
      expect(logs[0]?.outcome).to.equal('check');
    });

    for (const eventType of ['check_create_suite_url', 'check_update_suite_url']) {
      it(`answers ${eventType} with its Random, and rejects one without`, async function () {
        const response = await callbackFor()(pushRequest(eventText('check_create_suite_url', { EventType: eventType, Random: 'LPIdSnlF' })));
        expect(replyOf(response)).to.equal('LPIdSnlF');
        const missing = await callbackFor()(pushRequest(JSON.stringify({ EventType: eventType })));
        expect(missing.statusCode).to.equal(400);
        expect((await store.list()).records, 'a handshake is never stored').to.deep.equal([]);
        expect(logs.map((entry) => entry.outcome)).to.deep.equal(['check', 'rejected']);
        expect(logs.at(-1)).to.include({ outcome: 'rejected', error: 'undecryptable', reason: `${eventType} carries no string Random` }).and.not.have.property('id');
      });
    }

    it('answers a duplicate delivery with success and stores it once', async function () {
      const callback = callbackFor();
      const text = eventText('bpms_instance_change');
      const responses = await Promise.all(Array.from({ length: 10 }, () => callback(pushRequest(text))));
      for (const response of responses) expect(replyOf(response)).to.equal('success');
      expect((await store.list()).records).to.have.length(1);
      expect(logs.filter((entry) => entry.outcome === 'created')).to.have.length(1);
      expect(logs.filter((entry) => entry.outcome === 'duplicate')).to.have.length(9);
    });

    it('answers check_create_suite_url made for the placeholder suite4xxxxxxxxxxxxxxx with its Random, sealed for the placeholder', async function () {
      const placeholder = 'suite4xxxxxxxxxxxxxxx';
      const env = { ...SAMPLE_ENV, DINGTALK_OWNER_KEY: 'suitexvl6uynbsejmhpas' };
      const check = eventText('check_create_suite_url', { Random: 'p1ac3h0ld' });
      const response = await callbackFor(store, env)(pushRequest(check, SAMPLE_SETTINGS, placeholder));
      expect(replyOf(response, placeholder)).to.equal('p1ac3h0ld');
      expect(logs[0]).to.include({ outcome: 'check', status: 200 });
      for (const other of [eventText('check_create_suite_url', { EventType: 'check_update_suite_url' }), eventText('suite_ticket'), eventText('check_url')]) {
        const refused = await callbackFor(store, env)(pushRequest(other, SAMPLE_SETTINGS, placeholder));
        expect([refused.statusCode, JSON.parse(refused.body).error]).to.deep.equal([400, 'undecryptable']);
      }
      expect((await store.list()).records).to.deep.equal([]);
    });

    it('reads msg_signature before signature and timeStamp before timestamp, as DingTalk does', async function () {
      const { query, ...rest } = pushRequest(eventText('suite_ticket'));
      const both = { msg_signature: query.signature, signature: '0'.repeat(40), timeStamp: query.timestamp, timestamp: '1', nonce: query.nonce };
      expect(replyOf(await callbackFor()({ ...rest, query: both }))).to.equal('success');
      const reversed = { msg_signature: '0'.repeat(40), signature: query.signature, timeStamp: query.timestamp, nonce: query.nonce };
      expect((await callbackFor()({ ...rest, query: reversed })).statusCode).to.equal(401);
    });

    it('stores a message with a leading byte-order mark verbatim', async function () {
      const text = `\uFEFF${eventText('user_add_org')}`;
      expect(replyOf(await callbackFor()(pushRequest(text)))).to.equal('success');
      const [record] = (await store.list()).records;
      expect(record?.payload).to.equal(text);
      expect(record?.eventType).to.equal('user_add_org');
    });

    it('accepts msg_signature and timeStamp, the other spelling of the query', async function () {
      const { query, ...rest } = pushRequest(eventText('suite_ticket'));
      const response = await callbackFor()({ ...rest, query: { msg_signature: query.signature, timeStamp: query.timestamp, nonce: query.nonce } });
      expect(replyOf(response)).to.equal('success');
    });

    it('accepts a base64 body, as text or as bytes', async function () {
      const request = pushRequest(eventText('user_add_org'));
      const base64 = Buffer.from(String(request.body)).toString('base64');
      expect(replyOf(await callbackFor()({ ...request, body: base64, isBase64Encoded: true }))).to.equal('success');
      expect(replyOf(await callbackFor()({ ...request, body: Buffer.from(String(request.body)) }))).to.equal('success');
    });

    it('encrypts the reply for the ownerKey the push came for', async function () {
      const env = { ...SAMPLE_ENV, DINGTALK_OWNER_KEY: `${SAMPLE_OWNER},suitexvl6uynbsejmhpas` };
      const response = await callbackFor(store, env)(pushRequest(eventText('suite_ticket'), SAMPLE_SETTINGS, 'suitexvl6uynbsejmhpas'));
      expect(replyOf(response, 'suitexvl6uynbsejmhpas')).to.equal('success');
      expect((await store.list()).records[0]?.ownerKey).to.equal('suitexvl6uynbsejmhpas');
    });

    it('accepts a body of exactly the size limit', async function () {
      const request = pushRequest(eventText('user_add_org'));
      const body = String(request.body).padEnd(MAX_BODY_BYTES, ' ');
      expect((await callbackFor()({ ...request, body })).statusCode).to.equal(200);
    });
  });

  describe('rejected pushes', function () {
    const valid = () => pushRequest(eventText('user_add_org'));
    const otherKey = decodeAesKey('B'.repeat(43));
    /** A valid ciphertext of a valid push, in base64url: its '+' and '/' as '-' and '_' (Node's decoder would take them). */
    const base64urlCiphertext = () => {
      let ciphertext = '';
      while (!/[+/]/.test(ciphertext)) ciphertext = encrypt(SAMPLE_SETTINGS.aesKey, eventText('user_add_org'), SAMPLE_OWNER);
      return ciphertext.replaceAll('+', '-').replaceAll('/', '_');
    };
    const cases: Array<[string, () => CallbackRequest, number, string]> = [
      ['a GET', () => ({ ...valid(), method: 'GET' }), 405, 'method_not_allowed'],
      ['no signature', () => { const r = valid(); delete r.query.signature; return r; }, 400, 'bad_request'],
      ['no timestamp', () => { const r = valid(); delete r.query.timestamp; return r; }, 400, 'bad_request'],
      ['no nonce', () => { const r = valid(); delete r.query.nonce; return r; }, 400, 'bad_request'],
      ['a wrong signature', () => { const r = valid(); r.query.signature = '0'.repeat(40); return r; }, 401, 'bad_signature'],
      ['another token', () => pushRequest(eventText('user_add_org'), { token: 'not-mryue', aesKey: SAMPLE_SETTINGS.aesKey }), 401, 'bad_signature'],
      ['an empty body', () => ({ ...valid(), body: '' }), 400, 'bad_request'],
      ['no body', () => ({ ...valid(), body: undefined }), 400, 'bad_request'],
      ['a body that is not JSON', () => ({ ...valid(), body: 'encrypt=abc' }), 400, 'bad_request'],
      ['a JSON body without encrypt', () => ({ ...valid(), body: '{"data":"x"}' }), 400, 'bad_request'],
      ['a JSON null body', () => ({ ...valid(), body: 'null' }), 400, 'bad_request'],
      ['an encrypt that is not base64', () => signedRequest('@@not-base64@@'), 400, 'undecryptable'],
      ['an encrypt in base64url', () => signedRequest(base64urlCiphertext()), 400, 'undecryptable'],
      ['a truncated ciphertext', () => signedRequest(Buffer.from(encrypt(SAMPLE_SETTINGS.aesKey, '{"EventType":"x"}', SAMPLE_OWNER), 'base64').subarray(0, 40).toString('base64')), 400, 'undecryptable'],
      ['a tampered, re-signed ciphertext', () => {
        const bytes = Buffer.from(encrypt(SAMPLE_SETTINGS.aesKey, eventText('user_add_org'), SAMPLE_OWNER), 'base64');
        bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
        return signedRequest(bytes.toString('base64'));
      }, 400, 'undecryptable'],
      ['a ciphertext for another ownerKey', () => pushRequest(eventText('user_add_org'), SAMPLE_SETTINGS, 'dingsomeoneelse'), 400, 'undecryptable'],
      ['a ciphertext under another AES key', () => pushRequest(eventText('user_add_org'), { token: SAMPLE_SETTINGS.token, aesKey: otherKey }), 400, 'undecryptable'],
      ['a payload that is not JSON', () => pushRequest('EventType=user_add_org'), 400, 'undecryptable'],
      ['a payload that is not UTF-8', () => signedRequest(encrypt(SAMPLE_SETTINGS.aesKey, Buffer.from([0x7b, 0xff, 0x7d]), SAMPLE_OWNER)), 400, 'undecryptable'],
      ['a payload without EventType', () => pushRequest('{"CorpId":"x"}'), 400, 'undecryptable'],
      ['a payload naming EventType twice', () => pushRequest('{"EventType":"user_add_org","EventType":"check_url"}'), 400, 'undecryptable'],
      ['a payload naming eventId twice, once escaped', () => pushRequest('{"EventType":"user_add_org","eventId":"a","event\\u0049d":"b"}'), 400, 'undecryptable'],
      ['a body that is a number', () => ({ ...valid(), body: 42 as unknown as string }), 400, 'bad_request'],
      ['a body that is an object', () => ({ ...valid(), body: {} as unknown as string }), 400, 'bad_request'],
      ['a signature that is not a string', () => { const r = valid(); (r.query as Record<string, unknown>).signature = 7; return r; }, 400, 'bad_request'],
      ['a query that is null', () => ({ ...valid(), query: null as unknown as Record<string, string> }), 400, 'bad_request'],
      ['a method that is not a string', () => ({ ...valid(), method: 1 as unknown as string }), 405, 'method_not_allowed'],
      ['a body over the limit', () => ({ ...valid(), body: `${valid().body}${' '.repeat(MAX_BODY_BYTES)}` }), 413, 'payload_too_large'],
      ['a base64 body over the limit', () => ({ ...valid(), isBase64Encoded: true, body: 'A'.repeat(MAX_BODY_BYTES * 2) }), 413, 'payload_too_large'],
    ];
    for (const [what, request, status, code] of cases) {
      it(`answers ${status} ${code} to ${what}, storing nothing`, async function () {
        const response = await callbackFor()(request());
        expect(response.statusCode).to.equal(status);
        const body = JSON.parse(response.body) as { error: string; message: string };
        expect(body.error).to.equal(code);
        expect(body.message).to.be.a('string').and.have.length.below(200);
        expect((await store.list()).records).to.deep.equal([]);
        expect(logs).to.have.length(1);
        expect(logs[0]).to.include({ outcome: 'rejected', status, error: code, level: 'warn' });
      });
    }

    it('answers every failure after the signature with the same bytes, and keeps which it was for the log line only', async function () {
      const after = cases.filter(([, , , code]) => code === 'undecryptable');
      const answers = new Set<string>();
      for (const [, request] of after) {
        const response = await callbackFor()(request());
        answers.add(JSON.stringify([response.statusCode, response.headers, response.body]));
      }
      expect([...answers]).to.deep.equal([JSON.stringify([400, { 'content-type': 'application/json; charset=utf-8' }, '{"error":"undecryptable","message":"encrypt does not decrypt to a DingTalk message for this function"}'])]);
      expect(logs.map((entry) => entry.reason)).to.deep.equal([
        'encrypt is not base64',
        'encrypt is not base64',
        'ciphertext length is not a positive multiple of 16 bytes',
        'ciphertext does not decrypt to valid padding (wrong AES key or tampered ciphertext)',
        'ciphertext is for an ownerKey this function does not serve',
        'ciphertext does not decrypt to valid padding (wrong AES key or tampered ciphertext)',
        'decrypted message is not UTF-8 JSON',
        'decrypted message is not UTF-8 JSON',
        'decrypted message has no string EventType',
        'decrypted message names EventType twice',
        'decrypted message names eventId twice',
      ]);
    });

    it('answers 401 to a timestamp over DINGTALK_MAX_SKEW_SECONDS old, and ignores age when it is unset', async function () {
      const request = pushRequest(eventText('user_add_org'));
      const fiveMinutesLater = () => new Date(Date.now() + 301_000);
      const hardened = createCallback({ settings: loadSettings({ ...SAMPLE_ENV, DINGTALK_MAX_SKEW_SECONDS: '300' }), store, log: () => {}, now: fiveMinutesLater });
      const response = await hardened(request);
      expect(response.statusCode).to.equal(401);
      expect(JSON.parse(response.body).error).to.equal('stale_timestamp');
      const relaxed = createCallback({ settings: SAMPLE_SETTINGS, store, log: () => {}, now: fiveMinutesLater });
      expect((await relaxed(request)).statusCode).to.equal(200);
    });
  });

  describe('store failures', function () {
    it('answers 503 while the store is down, and success once it is back', async function () {
      const flaky = new FlakyStore();
      const callback = callbackFor(flaky);
      const text = eventText('bpms_task_change');
      const down = await callback(pushRequest(text));
      expect(down.statusCode).to.equal(503);
      expect(JSON.parse(down.body)).to.deep.equal({ error: 'store_unavailable', message: 'the event store failed; retry later' });
      expect(logs[0]).to.include({ outcome: 'store_failed', level: 'error', cause: 'Error' });
      flaky.up = true;
      expect(replyOf(await callback(pushRequest(text)))).to.equal('success');
      expect((await flaky.list()).records).to.have.length(1);
    });

    it('passes a StoreError through as it is', async function () {
      const failing = new MemoryEventStore();
      failing.put = async () => { throw new StoreError('throttled'); };
      const response = await callbackFor(failing)(pushRequest(eventText('user_add_org')));
      expect(response.statusCode).to.equal(503);
      expect(JSON.parse(response.body).message).to.equal('throttled');
    });
  });

  it('never logs or answers a secret, a ciphertext or a payload', async function () {
    const callback = callbackFor(new FlakyStore());
    const secretText = eventText('bpms_instance_change');
    const requests = [pushRequest(secretText), pushRequest(secretText, SAMPLE_SETTINGS, 'dingother'), pushRequest('not json 张三')];
    const responses = await Promise.all(requests.map(callback));
    const seen = JSON.stringify(logs) + responses.map((response) => response.body).join('');
    for (const secret of [SAMPLE_ENV.DINGTALK_TOKEN, SAMPLE_ENV.DINGTALK_AES_KEY, '张三', 'processCode', JSON.parse(String(requests[0]?.body)).encrypt.slice(0, 16)]) {
      expect(seen).to.not.include(secret);
    }
  });
});
