import { open, seal, type Envelope } from './crypto';
import { BadRequestError, CallbackError, MethodNotAllowedError, OwnerKeyError, PayloadTooLargeError, StaleTimestampError, StoreError } from './errors';
import { parseMessage, toRecord, type DingTalkMessage } from './events';
import { jsonLogger, type Logger, type PushLog } from './log';
import type { Settings } from './settings';
import type { EventStore } from './store';

/** A push as any cloud hands it over, reduced to what the protocol needs. */
export interface CallbackRequest {
  /** HTTP method; omitted means POST. */
  method?: string;
  /** Query parameters, first value of each. */
  query: Record<string, string | undefined>;
  /** The raw body, as text or bytes. */
  body?: string | Uint8Array | null;
  /** The body is base64 of the real body (API gateways do this). */
  isBase64Encoded?: boolean;
  /** The platform's request id, for the log line. */
  requestId?: string;
}

/** What to answer, for the cloud shim to encode. */
export interface CallbackResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A DingTalk callback: one push in, one answer out; it never throws. */
export type Callback = (request: CallbackRequest) => Promise<CallbackResponse>;

export interface CallbackOptions {
  settings: Settings;
  store: EventStore;
  /** Default: one JSON line per push on stdout. */
  log?: Logger;
  /** Default: the clock. */
  now?: () => Date;
  /** Default: {@link MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

/** The body size limit: DingTalk's largest pushes (attendance batches) are far below it. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Sent while an ISV suite's callback URL is being saved: the answer is the event's `Random`. */
const SUITE_CHECKS = new Set(['check_create_suite_url', 'check_update_suite_url']);
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/**
 * Builds the pipeline of ARCHITECTURE.md: verify → decrypt → parse → store → encrypted reply.
 * `success` is answered only once the store has the record; a store failure answers 503.
 */
export function createCallback(options: CallbackOptions): Callback {
  const { settings, store, log = jsonLogger, now = () => new Date(), maxBodyBytes = MAX_BODY_BYTES } = options;

  return async (request) => {
    const started = performance.now();
    const entry: Partial<PushLog> = { requestId: request.requestId };
    let response: CallbackResponse;
    try {
      const envelope = readEnvelope(request, maxBodyBytes);
      checkSkew(envelope.timestamp, settings.maxSkewSeconds, now());
      const { message: bytes, ownerKey } = open(settings, envelope);
      if (!settings.ownerKeys.includes(ownerKey)) throw new OwnerKeyError('ciphertext is for an ownerKey this function does not serve');
      const message = parseMessage(bytes);
      entry.eventType = message.eventType;
      if (message.eventType === 'check_url') {
        entry.outcome = 'check';
      } else {
        const record = toRecord(message, ownerKey, now());
        entry.eventId = record.eventId;
        entry.outcome = await store.put(record).catch((cause: unknown) => {
          throw cause instanceof StoreError ? cause : new StoreError('the event store failed; retry later', { cause });
        });
      }
      const reply = seal(settings, replyText(message), ownerKey, now().getTime());
      response = answer(200, { msg_signature: reply.signature, timeStamp: reply.timestamp, nonce: reply.nonce, encrypt: reply.encrypt });
    } catch (error) {
      const failure = error instanceof CallbackError ? error : new CallbackError('internal error', { cause: error });
      entry.outcome = failure instanceof StoreError ? 'store_failed' : failure.status >= 500 ? 'failed' : 'rejected';
      entry.error = failure.code;
      if (failure.cause instanceof Error) entry.cause = failure.cause.name;
      response = answer(failure.status, { error: failure.code, message: failure.message });
      if (failure instanceof MethodNotAllowedError) response.headers.allow = 'POST'; // RFC 9110: a 405 names the methods allowed
    }
    const status = response.statusCode;
    log({ level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info', msg: 'push', ...entry, status, outcome: entry.outcome ?? 'failed', latencyMs: Math.round((performance.now() - started) * 1000) / 1000 });
    return response;
  };
}

/** The message a reply encrypts: `success`, except the suite URL checks' `Random`. */
function replyText(message: DingTalkMessage): string {
  if (!SUITE_CHECKS.has(message.eventType)) return 'success';
  const random = message.fields.Random;
  if (typeof random !== 'string' || random === '') throw new BadRequestError(`${message.eventType} carries no string Random`);
  return random;
}

function readEnvelope(request: CallbackRequest, maxBodyBytes: number): Envelope {
  if (request.method !== undefined && request.method.toUpperCase() !== 'POST') {
    throw new MethodNotAllowedError('DingTalk callbacks are POST requests');
  }
  const body = bodyText(request, maxBodyBytes);
  const { query } = request;
  const signature = query.signature ?? query.msg_signature;
  const timestamp = query.timestamp ?? query.timeStamp;
  const nonce = query.nonce;
  if (!signature || !timestamp || !nonce) {
    throw new BadRequestError('query must carry signature (or msg_signature), timestamp (or timeStamp) and nonce');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new BadRequestError('body is not JSON', { cause });
  }
  const encrypt = (parsed as { encrypt?: unknown } | null)?.encrypt;
  if (typeof encrypt !== 'string' || encrypt === '') throw new BadRequestError('body has no string "encrypt"');
  return { signature, timestamp, nonce, encrypt };
}

function bodyText(request: CallbackRequest, maxBodyBytes: number): string {
  const { body } = request;
  if (body === undefined || body === null || body.length === 0) throw new BadRequestError('body is empty');
  const tooLarge = new PayloadTooLargeError(`body is over the ${maxBodyBytes}-byte limit`);
  let bytes: Buffer;
  if (request.isBase64Encoded) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
    if (Math.floor(text.length / 4) * 3 > maxBodyBytes + 2) throw tooLarge;
    bytes = Buffer.from(text, 'base64');
  } else {
    bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }
  if (bytes.length > maxBodyBytes) throw tooLarge;
  return bytes.toString('utf8');
}

function checkSkew(timestamp: string, maxSkewSeconds: number, now: Date): void {
  if (maxSkewSeconds === 0) return;
  const sent = Number(timestamp);
  if (!Number.isFinite(sent) || Math.abs(now.getTime() - sent) > maxSkewSeconds * 1000) {
    throw new StaleTimestampError(`timestamp is more than ${maxSkewSeconds} s from now`);
  }
}

function answer(statusCode: number, body: object): CallbackResponse {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}
