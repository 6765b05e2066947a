import { open, seal, type Secrets } from './crypto';
import { BadRequestError } from './errors';

/**
 * DingTalk's side of the protocol: seal a push the way DingTalk sends it, and open the reply the
 * way DingTalk checks it. The CLI's simulator, the load generator, the benchmarks and the tests use it.
 */
export interface Push {
  /** `signature`, `timestamp`, `nonce`, as DingTalk puts them in the URL. */
  query: Record<string, string>;
  /** `{"encrypt": "…"}`. */
  body: string;
}

/** Seals `message` (the JSON text of an event) into a push for `ownerKey`. */
export function sealPush(secrets: Secrets, message: string, ownerKey: string): Push {
  const envelope = seal(secrets, message, ownerKey);
  return {
    query: { signature: envelope.signature, timestamp: envelope.timestamp, nonce: envelope.nonce },
    body: JSON.stringify({ encrypt: envelope.encrypt }),
  };
}

/** The URL of a push: `url` with the push's query appended. */
export function pushUrl(url: string, push: Push): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(push.query)) target.searchParams.set(name, value);
  return target.toString();
}

/**
 * Verifies and decrypts a callback's reply as DingTalk does, answering the message it carries
 * (`success` when all is well).
 * @throws BadRequestError, SignatureError or DecryptError when the reply would fail at DingTalk
 * (its console shows error 71009), or when it is for another ownerKey than `ownerKey`.
 */
export function openReply(secrets: Secrets, body: string, ownerKey: string): string {
  let reply: Record<string, unknown>;
  try {
    reply = JSON.parse(body) as Record<string, unknown>;
  } catch (cause) {
    throw new BadRequestError('reply is not JSON', { cause });
  }
  const { msg_signature: signature, timeStamp: timestamp, nonce, encrypt } = reply ?? {};
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || typeof nonce !== 'string' || typeof encrypt !== 'string') {
    throw new BadRequestError('reply lacks msg_signature, timeStamp, nonce or encrypt');
  }
  const plain = open(secrets, { signature, timestamp, nonce, encrypt });
  if (plain.ownerKey !== ownerKey) throw new BadRequestError('reply is encrypted for another ownerKey');
  return plain.message.toString('utf8');
}
