import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import DingTalkEncryptor from 'dingtalk-encrypt';
import { open, seal } from '../core/crypto';
import { sealPush } from '../core/peer';
import { SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../test/support/fixtures';

/** One push as a receiver sees it: the four strings that are signed. */
interface Received {
  signature: string;
  timestamp: string;
  nonce: string;
  encrypt: string;
}

/** What every contender does per push: verify, decrypt, and encrypt and sign the `success` reply. */
type Receiver = (push: Received) => void;

/** Ours: the core's own open and seal. */
const ours: Receiver = (push) => {
  open(SAMPLE_SETTINGS, push);
  seal(SAMPLE_SETTINGS, 'success', SAMPLE_OWNER);
};

const peerEncryptor = new DingTalkEncryptor(SAMPLE_ENV.DINGTALK_TOKEN, SAMPLE_ENV.DINGTALK_AES_KEY, SAMPLE_OWNER);
/** The npm peer `dingtalk-encrypt` (pure-JS AES through crypto-js). */
const peer: Receiver = (push) => {
  peerEncryptor.getDecryptMsg(push.signature, push.timestamp, push.nonce, push.encrypt);
  peerEncryptor.getEncryptedMap('success', String(Date.now()), 'abcdefgh');
};

const key = SAMPLE_SETTINGS.aesKey;
const iv = key.subarray(0, 16);
const sha1 = (parts: string[]) => createHash('sha1').update(parts.sort().join('')).digest('hex');
/** The floor: the least node:crypto work a push needs, with no checks at all. */
const floor: Receiver = (push) => {
  sha1([SAMPLE_SETTINGS.token, push.timestamp, push.nonce, push.encrypt]);
  const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
  Buffer.concat([decipher.update(Buffer.from(push.encrypt, 'base64')), decipher.final()]);
  const reply = Buffer.concat([randomBytes(16), Buffer.from([0, 0, 0, 7]), Buffer.from(`success${SAMPLE_OWNER}`), Buffer.alloc(17, 17)]); // 16 + 4 + 7 + 20 = 47 bytes, padded to 64
  const cipher = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
  const encrypted = Buffer.concat([cipher.update(reply), cipher.final()]).toString('base64');
  sha1([SAMPLE_SETTINGS.token, String(Date.now()), 'abcdefgh', encrypted]);
};

/**
 * Pushes per second of each contender on `message`. The contenders take turns in short rounds and
 * each keeps its best round, so a burst of other work on the machine does not favour one of them.
 */
export function measureCrypto(message: string, rounds = 7, roundMillis = 250): { oursPerSec: number; peerPerSec: number; floorPerSec: number; messageBytes: number } {
  const pushes: Received[] = Array.from({ length: 256 }, () => {
    const push = sealPush(SAMPLE_SETTINGS, message, SAMPLE_OWNER);
    return { ...(push.query as { signature: string; timestamp: string; nonce: string }), encrypt: (JSON.parse(push.body) as { encrypt: string }).encrypt };
  });
  const contenders = { ours, peer, floor };
  const best = { ours: 0, peer: 0, floor: 0 };
  for (const receiver of Object.values(contenders)) for (const push of pushes) receiver(push);
  for (let round = 0; round < rounds; round++) {
    for (const [name, receiver] of Object.entries(contenders) as Array<[keyof typeof best, Receiver]>) {
      let count = 0;
      const started = performance.now();
      let elapsed = 0;
      while (elapsed < roundMillis) {
        for (let i = 0; i < 20; i++) receiver(pushes[count++ % pushes.length] as Received);
        elapsed = performance.now() - started;
      }
      best[name] = Math.max(best[name], Math.round((count / elapsed) * 1000));
    }
  }
  return { oursPerSec: best.ours, peerPerSec: best.peer, floorPerSec: best.floor, messageBytes: Buffer.byteLength(message) };
}
