import { expect } from 'chai';
import fc from 'fast-check';
import { createCallback, type CallbackRequest } from '../../core/callback';
import { encrypt, sign } from '../../core/crypto';
import { MemoryEventStore } from '../../core/memory-store';
import { openReply } from '../../core/dingtalk-side';
import { SAMPLE_OWNER, SAMPLE_SETTINGS, eventFixtureNames, eventText } from '../../testkit/fixtures';
import { pushRequest } from '../../testkit/push';

const REJECTIONS = [400, 401, 405, 413];

/** Runs a request through a fresh pipeline and checks the invariants every answer keeps. */
async function answer(request: CallbackRequest) {
  const store = new MemoryEventStore();
  const callback = createCallback({ settings: SAMPLE_SETTINGS, store, log: () => {} });
  const response = await callback(request);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  if (response.statusCode === 200) {
    expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.be.a('string');
  } else {
    expect(REJECTIONS).to.include(response.statusCode);
    expect(body.error).to.be.a('string');
    expect((await store.list()).records).to.deep.equal([]);
  }
  return { response, store };
}

const queryArbitrary = fc.dictionary(fc.constantFrom('signature', 'msg_signature', 'timestamp', 'timeStamp', 'nonce', 'x'), fc.string());

describe('core/callback under fuzzing (fast-check)', function () {
  it('answers random bytes and random queries with a documented 4xx, never a throw or a 5xx', async function () {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), queryArbitrary, fc.boolean(), fc.constantFrom('POST', 'GET', 'PUT', undefined), async (body, query, isBase64Encoded, method) => {
        const { response } = await answer({ method, query, body, isBase64Encoded });
        expect(response.statusCode).to.not.equal(200);
      }),
      { numRuns: 300 },
    );
  });

  it('answers random JSON bodies and random encrypt strings under a valid signature with a 4xx', async function () {
    const bodies = fc.oneof(
      fc.string({ unit: 'binary' }).map((encrypt) => ({ encrypt, body: JSON.stringify({ encrypt }) })),
      fc.base64String().map((encrypt) => ({ encrypt, body: JSON.stringify({ encrypt }) })),
      fc.json().map((body) => ({ encrypt: '', body })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async ({ encrypt, body }) => {
        const { response } = await answer({ query: { signature: sign(SAMPLE_SETTINGS.token, '1', 'n', encrypt), timestamp: '1', nonce: 'n' }, body });
        expect(response.statusCode).to.not.equal(200);
      }),
      { numRuns: 300 },
    );
  });

  it('answers mutations of valid pushes (flipped, cut or grown ciphertexts, re-signed) with 200 or a 4xx', async function () {
    const names = eventFixtureNames();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom('flip', 'cut', 'grow'), async (name, position, mask, how) => {
        const bytes = Buffer.from(encrypt(SAMPLE_SETTINGS.aesKey, eventText(name), SAMPLE_OWNER), 'base64');
        const at = position % bytes.length;
        const mutated = how === 'flip'
          ? Buffer.from(bytes.map((byte, i) => (i === at ? byte ^ mask : byte)))
          : how === 'cut' ? bytes.subarray(0, at) : Buffer.concat([bytes, Buffer.alloc(mask % 48, mask)]);
        const ciphertext = mutated.toString('base64');
        await answer({ query: { signature: sign(SAMPLE_SETTINGS.token, '1', 'n', ciphertext), timestamp: '1', nonce: 'n' }, body: JSON.stringify({ encrypt: ciphertext }) });
      }),
      { numRuns: 400 },
    );
  });

  it('stores any JSON event with any Unicode text verbatim and answers success', async function () {
    const eventArbitrary = fc.record({
      EventType: fc.string({ unit: 'binary', minLength: 1 }).filter((type) => type.trim() !== '' && !type.trim().startsWith('check_')),
      title: fc.string({ unit: 'binary' }),
      extra: fc.jsonValue(),
    });
    await fc.assert(
      fc.asyncProperty(eventArbitrary, async (event) => {
        const text = JSON.stringify(event);
        const { response, store } = await answer(pushRequest(text));
        expect(openReply(SAMPLE_SETTINGS, response.body, SAMPLE_OWNER)).to.equal('success');
        const [record] = (await store.list()).records;
        expect(record?.payload).to.equal(text);
        expect(record?.eventType).to.equal(event.EventType.trim());
      }),
      { numRuns: 200 },
    );
  });
});
