import { createHash, createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError } from './errors';
import type { EventRecord } from './events';

/** The prefix of a Standard Webhooks secret; the key is the base64 after it. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * The signing key of a `whsec_…` secret (standardwebhooks.com). It redacts itself when logged or
 * serialised, so a stray `console.log` of the settings leaks nothing.
 */
export class WebhookKey {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`: the `webhook-signature` header. */
  sign(id: string, timestampSeconds: number, body: string): string {
    return `v1,${createHmac('sha256', this.#key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'WebhookKey [redacted]';
  }
}

/**
 * Reads a Standard Webhooks secret, `whsec_` + base64 of the key (at least 24 bytes, as the spec
 * asks), from `variable`'s value.
 * @throws ConfigError naming `variable`; the message never quotes the secret.
 */
export function webhookKey(secret: string, variable: string): WebhookKey {
  const encoded = secret.trim();
  if (!encoded.startsWith(WEBHOOK_SECRET_PREFIX)) throw new ConfigError(variable, `must start with ${WEBHOOK_SECRET_PREFIX} (a Standard Webhooks secret: whsec_ + base64 of 24 to 64 random bytes)`);
  const base64 = encoded.slice(WEBHOOK_SECRET_PREFIX.length);
  const key = Buffer.from(base64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || key.length < 24 || key.length > 64) {
    throw new ConfigError(variable, `must be ${WEBHOOK_SECRET_PREFIX} + base64 of 24 to 64 bytes (make one with: dingtalk-callback keygen)`);
  }
  return new WebhookKey(key);
}

/**
 * The `webhook-id` of a record: the same for an event across retries and replays (consumers
 * deduplicate on it), derived from the record's identity (`id`, which holds its ownerKey) and nothing else.
 */
export function webhookIdOf(record: Pick<EventRecord, 'id'>): string {
  return `msg_${createHash('sha256').update(record.id).digest('base64url').slice(0, 32)}`;
}

/** The three Standard Webhooks headers of one delivery attempt of `body`. */
export function webhookHeaders(key: WebhookKey, id: string, body: string, now: Date): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': key.sign(id, timestamp, body) };
}
