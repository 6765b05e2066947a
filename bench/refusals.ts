import { percentile } from '../cli/stats';
import { createCallback, type CallbackRequest } from '../core/callback';
import { encrypt, sign } from '../core/crypto';
import { sealPush } from '../core/dingtalk-side';
import { MemoryEventStore } from '../core/memory-store';
import { SAMPLE_OWNER, SAMPLE_SETTINGS } from '../testkit/fixtures';

/** A push of `ciphertext` signed with the token alone: what a padding-oracle attacker sends. */
function signed(ciphertext: string): CallbackRequest {
  const timestamp = String(Date.now());
  return { method: 'POST', query: { signature: sign(SAMPLE_SETTINGS.token, timestamp, 'nonce', ciphertext), timestamp, nonce: 'nonce' }, body: JSON.stringify({ encrypt: ciphertext }) };
}

const sealed = (message: string, ownerKey = SAMPLE_OWNER): CallbackRequest => ({ method: 'POST', ...sealPush(SAMPLE_SETTINGS, message, ownerKey) });

/**
 * The failures after the signature, each as it comes about: the first two are the padding
 * oracle's own pair (a captured block behind a chosen one: a bad pad, or a good pad and then a bad
 * length), the rest need the key. Each request is fresh (its own ciphertext or nonce).
 */
const REFUSALS: Record<string, () => CallbackRequest> = {
  'bad padding': () => {
    // The last byte of the block before the last flipped: the last plaintext byte, the pad, is then over 32.
    const bytes = Buffer.from(encrypt(SAMPLE_SETTINGS.aesKey, '{"EventType":"user_add_org"}', SAMPLE_OWNER), 'base64');
    bytes[bytes.length - 17] = bytes[bytes.length - 17]! ^ 0xff;
    return signed(bytes.toString('base64'));
  },
  'bad length': () => {
    // The first byte flipped: in CBC it flips the first byte of the next block's plaintext, the length's top byte; the pad stays good.
    const bytes = Buffer.from(encrypt(SAMPLE_SETTINGS.aesKey, '{"EventType":"user_add_org"}', SAMPLE_OWNER), 'base64');
    bytes[0] = bytes[0]! ^ 0xff;
    return signed(bytes.toString('base64'));
  },
  'wrong ownerKey': () => sealed('{"EventType":"user_add_org"}', 'dingsomeoneelse'),
  'not JSON': () => sealed('EventType=user_add_org'),
  'no EventType': () => sealed('{"CorpId":"ding"}'),
  'EventType twice': () => sealed('{"EventType":"user_add_org","EventType":"check_url"}'),
};

/** The median time the core takes to refuse each kind, requests taking turns so that load falls on all alike. */
export async function measureRefusals(requests = 3000, warmUp = 300): Promise<Record<string, number>> {
  const callback = createCallback({ settings: SAMPLE_SETTINGS, store: new MemoryEventStore(), log: () => {} });
  const kinds = Object.keys(REFUSALS);
  const prepared = kinds.map((kind) => Array.from({ length: requests + warmUp }, REFUSALS[kind]!));
  const times: number[][] = kinds.map(() => []);
  const answers = new Set<string>();
  for (let n = 0; n < requests + warmUp; n += 1) {
    for (const [index, batch] of prepared.entries()) {
      const started = performance.now();
      const response = await callback(batch[n]!);
      const elapsed = performance.now() - started;
      answers.add(`${response.statusCode} ${response.body}`);
      if (n >= warmUp) times[index]!.push(elapsed * 1000);
    }
  }
  if (answers.size !== 1) throw new Error(`the refusals were answered ${answers.size} ways: ${[...answers].join(' | ')}`);
  return Object.fromEntries(kinds.map((kind, index) => [kind, Math.round(percentile(times[index]!.sort((a, b) => a - b), 0.5) * 10) / 10]));
}
