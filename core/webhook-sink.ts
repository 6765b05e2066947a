import { DeliveryError, envelopeJson, type Sink } from './forward';
import type { EventRecord } from './events';
import { webhookHeaders, webhookIdOf, type WebhookKey } from './webhook';

/** How long a receiver may take to answer one attempt before it counts as failed. */
export const WEBHOOK_TIMEOUT_MS = 5000;

export interface WebhookSinkOptions {
  /** Checked by `loadForwardSettings`: HTTPS, or plain HTTP to this machine only. */
  url: URL;
  key: WebhookKey;
  /** Default {@link WEBHOOK_TIMEOUT_MS}. */
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * A Standard Webhooks sink: POSTs the record's envelope as JSON, signed, and counts any 2xx answer
 * as delivered. Every attempt is signed afresh with its own `webhook-timestamp`; the `webhook-id`
 * stays the record's.
 */
export function webhookSink({ url, key, timeoutMs = WEBHOOK_TIMEOUT_MS, now = () => new Date() }: WebhookSinkOptions): Sink {
  return {
    name: 'webhook',
    async deliver(record: EventRecord) {
      const body = envelopeJson(record);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'dingtalk-callback', ...webhookHeaders(key, webhookIdOf(record), body, now()) },
          body,
          redirect: 'manual', // a redirect could lead off HTTPS or to another host: the receiver must be the URL itself
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        const name = (error as Error).name;
        throw new DeliveryError(name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `connection failed (${cause ?? name})`);
      }
      // The body is not read (it could echo the payload into a log); cancelling frees the socket.
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status > 299) throw new DeliveryError(`HTTP ${response.status}`);
    },
  };
}
