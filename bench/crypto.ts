import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto';
import DingTalkEncryptor from 'dingtalk-encrypt';
import { open, seal } from '../core/crypto';
import { openReply, sealPush } from '../core/dingtalk-side';
import { SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../testkit/fixtures';

/** One push as a receiver sees it: the four strings that are signed. */
interface Received {
  signature: string;
  timestamp: string;
  nonce: string;
  encrypt: string;
}

/** What a contender hands back: the message it decrypted and the `success` reply it sealed. */
interface Handled {
  message: string;
  reply: { msg_signature: string; timeStamp: string; nonce: string; encrypt: string };
}

/** What every contender does per push: verify, decrypt, and encrypt and sign the `success` reply. */
type Receiver = (push: Received) => Handled;

/** Ours: the core's own open and seal. */
const ours: Receiver = (push) => {
  const { message } = open(SAMPLE_SETTINGS, push);
  const reply = seal(SAMPLE_SETTINGS, 'success', SAMPLE_OWNER);
  return { message: message.toString('utf8'), reply: { msg_signature: reply.signature, timeStamp: reply.timestamp, nonce: reply.nonce, encrypt: reply.encrypt } };
};

const peerEncryptor = new DingTalkEncryptor(SAMPLE_ENV.DINGTALK_TOKEN, SAMPLE_ENV.DINGTALK_AES_KEY, SAMPLE_OWNER);
/**
 * The npm peer `dingtalk-encrypt` (pure-JS AES through crypto-js). It hands the message back as its
 * UTF-8 bytes read as Latin-1, so Chinese text comes out garbled unless decoded again, as here.
 */
const peer: Receiver = (push) => ({
  message: Buffer.from(peerEncryptor.getDecryptMsg(push.signature, push.timestamp, push.nonce, push.encrypt), 'latin1').toString('utf8'),
  reply: peerEncryptor.getEncryptedMap('success', String(Date.now()), 'abcdefgh'),
});

const { token, aesKey } = SAMPLE_SETTINGS;
const iv = aesKey.subarray(0, 16);
const sha1 = (...parts: string[]) => {
  const hash = createHash('sha1');
  for (const part of parts.sort()) hash.update(part);
  return hash.digest('hex');
};
/** The reply's plaintext, `random16 | length | success | ownerKey | padding`: only the random part changes. */
const replyPlain = (() => {
  const body = Buffer.from(`success${SAMPLE_OWNER}`);
  const pad = 32 - ((20 + body.length) % 32);
  const plain = Buffer.concat([Buffer.alloc(20), body, Buffer.alloc(pad, pad)]);
  plain.writeUInt32BE(7, 16);
  return plain;
})();
/** Random bytes drawn in bulk as ours does: one system call per push would cost more than the AES. */
const entropy = Buffer.alloc(4096);
let entropyUsed = entropy.length;
/** The floor: the least node:crypto work a push needs, written plainly, with no checks at all. */
const floor: Receiver = (push) => {
  sha1(token, push.timestamp, push.nonce, push.encrypt);
  const decipher = createDecipheriv('aes-256-cbc', aesKey, iv).setAutoPadding(false);
  const plain = decipher.update(Buffer.from(push.encrypt, 'base64'));
  if (entropyUsed + 22 > entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  entropy.copy(replyPlain, 0, entropyUsed, entropyUsed + 16);
  const nonce = entropy.toString('hex', entropyUsed + 16, (entropyUsed += 22));
  const encrypt = createCipheriv('aes-256-cbc', aesKey, iv).setAutoPadding(false).update(replyPlain).toString('base64');
  const timeStamp = String(Date.now());
  return { message: plain.toString('utf8', 20, 20 + plain.readUInt32BE(16)), reply: { msg_signature: sha1(token, timeStamp, nonce, encrypt), timeStamp, nonce, encrypt } };
};

/** Pushes per second of each contender, and the size of the message. */
export interface CryptoResult {
  oursPerSec: number;
  peerPerSec: number;
  floorPerSec: number;
  messageBytes: number;
}

/**
 * Pushes per second of each contender on `message`. Each one's work is checked once first (the
 * message it decrypted, and its reply opened as DingTalk does), then it warms up on `distinct`
 * pushes, which the rounds go through again and again. The contenders then take turns in short
 * rounds and each keeps its best round, so a burst of other work on the machine does not favour one
 * of them.
 */
export function measureCrypto(message: string, rounds = 7, roundMillis = 250, distinct = 256): CryptoResult {
  const pushes: Received[] = Array.from({ length: distinct }, () => {
    const push = sealPush(SAMPLE_SETTINGS, message, SAMPLE_OWNER);
    return { ...(push.query as { signature: string; timestamp: string; nonce: string }), encrypt: (JSON.parse(push.body) as { encrypt: string }).encrypt };
  });
  const contenders = { ours, peer, floor };
  for (const [name, receiver] of Object.entries(contenders)) {
    const handled = receiver(pushes[0]!);
    if (handled.message !== message || openReply(SAMPLE_SETTINGS, JSON.stringify(handled.reply), SAMPLE_OWNER) !== 'success') throw new Error(`${name} does not do a push's work`);
  }
  const best = { ours: 0, peer: 0, floor: 0 };
  for (const receiver of Object.values(contenders)) for (const push of pushes) receiver(push);
  for (let round = 0; round < rounds; round++) {
    for (const [name, receiver] of Object.entries(contenders) as Array<[keyof typeof best, Receiver]>) {
      let count = 0;
      const started = performance.now();
      let elapsed = 0;
      while (elapsed < roundMillis) {
        for (let i = 0; i < 20; i++) receiver(pushes[count++ % pushes.length]!);
        elapsed = performance.now() - started;
      }
      best[name] = Math.max(best[name], Math.round((count / elapsed) * 1000));
    }
  }
  return { oursPerSec: best.ours, peerPerSec: best.peer, floorPerSec: best.floor, messageBytes: Buffer.byteLength(message) };
}
