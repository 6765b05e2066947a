import { seal, signatureMatches, unseal, type Envelope } from './crypto';
import { BadRequestError, CallbackError, MethodNotAllowedError, PayloadTooLargeError, SignatureError, StaleTimestampError, StoreError, UndecryptableError, UnstorableEventError } from './errors';
import { capField, HANDSHAKES, parseMessage, toRecord, type DingTalkMessage, type EventRecord } from './events';
import { firstString } from './fields';
import { jsonLogger, type Logger, type PushLog } from './log';
import { mapLimited } from './pool';
import type { Settings } from './settings';
import type { EventWriter, PutOutcome } from './store';
import { syncRecords } from './sync-push';

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
  store: EventWriter;
  /** Default: one JSON line per push on stdout. */
  log?: Logger;
  /** Default: the clock. */
  now?: () => Date;
}

/** The body size limit: DingTalk's largest pushes (attendance batches) are far below it. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Sent while an ISV suite's callback URL is being saved: the answer is the event's `Random`. */
const SUITE_CHECKS = new Set(['check_create_suite_url', 'check_update_suite_url']);
/**
 * The ownerKey DingTalk encrypts `check_create_suite_url` for while a suite is being created and has
 * no SuiteKey yet. It is accepted for that event only, without being configured.
 */
export const SUITE_PLACEHOLDER_OWNER_KEY = 'suite4xxxxxxxxxxxxxxx';
const PLACEHOLDER_EVENT = 'check_create_suite_url';
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/**
 * Builds the pipeline of docs/architecture.md ("The way a push travels"): verify → decrypt → parse → store → encrypted reply.
 * `success` is answered only once the store has the record; a store failure answers 503.
 */
export function createCallback(options: CallbackOptions): Callback {
  const { settings, store, log = jsonLogger, now = () => new Date() } = options;

  return async (request) => {
    const started = performance.now();
    const entry: Partial<PushLog> = { requestId: request.requestId };
    let response: CallbackResponse;
    try {
      const envelope = readEnvelope(request);
      checkSkew(envelope.timestamp, settings.maxSkewSeconds, now());
      const { message, ownerKey, text } = openPush(settings, envelope);
      entry.eventType = capField(message.eventType);
      if (HANDSHAKES.has(message.eventType)) {
        entry.outcome = 'check';
      } else {
        const rows = syncRecords(message, ownerKey, now());
        if (rows) {
          entry.outcome = await storeRows(store, rows, entry);
        } else {
          const record = toRecord(message, ownerKey, now());
          entry.id = record.id;
          entry.outcome = await put(store, record);
        }
      }
      const reply = seal(settings, text, ownerKey, now().getTime());
      response = answer(200, { msg_signature: reply.signature, timeStamp: reply.timestamp, nonce: reply.nonce, encrypt: reply.encrypt });
    } catch (error) {
      response = failure(error, entry);
    }
    logPush(log, entry, response.statusCode, started);
    return response;
  };
}

/** How many rows of one SyncHTTP push are stored at once: 50 rows in a few round trips, well inside DingTalk's 2.5 s. */
const ROW_CONCURRENCY = 10;

/** One record stored; anything but an answer or a known refusal is a store failure (503). */
function put(store: EventWriter, record: EventRecord): Promise<PutOutcome> {
  return store.put(record).catch((cause: unknown) => {
    throw cause instanceof StoreError || cause instanceof UnstorableEventError ? cause : new StoreError('the event store failed; retry later', { cause });
  });
}

/**
 * Stores every row of a SyncHTTP push, a few at a time, and notes the counts in `entry`. A row no
 * store can ever hold is refused on its own (its id logged) rather than holding the others back
 * forever; any other failure fails the push (503): DingTalk pushes it again, and the rows already
 * stored are duplicates then.
 */
async function storeRows(store: EventWriter, rows: EventRecord[], entry: Partial<PushLog>): Promise<PushLog['outcome']> {
  const outcomes = await mapLimited(rows, ROW_CONCURRENCY, (record) =>
    put(store, record).catch((error: unknown) => {
      if (error instanceof UnstorableEventError) return 'refused' as const;
      throw error;
    }),
  );
  const count = (outcome: string) => outcomes.filter((each) => each === outcome).length;
  entry.rows = { created: count('created'), duplicate: count('duplicate'), refused: count('refused') };
  const refused = rows.filter((_, index) => outcomes[index] === 'refused').map((record) => record.id);
  if (refused.length > 0) entry.refused = refused;
  return entry.rows.created > 0 ? 'created' : 'duplicate';
}

/**
 * For a cloud shim whose event is no HTTP request at all: the 400 answer and the log line the
 * pipeline gives any malformed request.
 */
export function malformedEvent(message: string, requestId?: string, log: Logger = jsonLogger): CallbackResponse {
  const started = performance.now();
  const entry: Partial<PushLog> = { requestId };
  const response = failure(new BadRequestError(message), entry);
  logPush(log, entry, response.statusCode, started);
  return response;
}

/** Answers an error with its status and JSON body, and notes in `entry` what became of the push. */
function failure(error: unknown, entry: Partial<PushLog>): CallbackResponse {
  const failed = error instanceof CallbackError ? error : new CallbackError('internal error', { cause: error });
  entry.outcome = failed instanceof StoreError ? 'store_failed' : failed.status >= 500 ? 'failed' : 'rejected';
  entry.error = failed.code;
  if (failed instanceof UnstorableEventError) entry.reason = failed.message;
  if (failed instanceof UndecryptableError) entry.reason = failed.detail;
  if (failed.cause instanceof Error) entry.cause = failed.cause.name;
  const response = answer(failed.status, { error: failed.code, message: failed.message });
  if (failed instanceof MethodNotAllowedError) response.headers.allow = 'POST'; // RFC 9110: a 405 names the methods allowed
  return response;
}

function logPush(log: Logger, entry: Partial<PushLog>, status: number, started: number): void {
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  log({ level, msg: 'push', ...entry, status, outcome: entry.outcome ?? 'failed', latencyMs: Math.round((performance.now() - started) * 1000) / 1000 });
}

/**
 * The message a reply encrypts: `success`, except the suite URL checks' `Random`.
 * @throws BadRequestError for a suite URL check without a string `Random`.
 */
export function replyText(message: DingTalkMessage): string {
  if (!SUITE_CHECKS.has(message.eventType)) return 'success';
  const random = message.fields.Random;
  if (typeof random !== 'string' || random === '') throw new BadRequestError(`${message.eventType} carries no string Random`);
  return random;
}

function readEnvelope(request: CallbackRequest): Envelope {
  const { method } = request as { method?: unknown };
  if (method !== undefined && (typeof method !== 'string' || method.toUpperCase() !== 'POST')) {
    throw new MethodNotAllowedError('DingTalk callbacks are POST requests');
  }
  const body = bodyText(request);
  const query: Record<string, unknown> = typeof request.query === 'object' && request.query !== null ? request.query : {};
  // DingTalk's reference code reads msg_signature and timeStamp first; its HTTP mode sends both spellings.
  const signature = firstString(query, ['msg_signature', 'signature']);
  const timestamp = firstString(query, ['timeStamp', 'timestamp']);
  const nonce = firstString(query, ['nonce']);
  if (!signature || !timestamp || !nonce) {
    throw new BadRequestError('query must carry msg_signature (or signature), timeStamp (or timestamp) and nonce');
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

function bodyText(request: CallbackRequest): string {
  const { body } = request as { body?: unknown };
  if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) throw new BadRequestError('body is not text');
  if (body === undefined || body === null || body.length === 0) throw new BadRequestError('body is empty');
  const tooLarge = () => new PayloadTooLargeError(`body is over the ${MAX_BODY_BYTES}-byte limit`);
  let bytes: Buffer;
  if (request.isBase64Encoded) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
    if (Math.floor(text.length / 4) * 3 > MAX_BODY_BYTES + 2) throw tooLarge();
    bytes = Buffer.from(text, 'base64');
  } else {
    bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
  return bytes.toString('utf8');
}

/**
 * Verifies a push's signature, then opens it: decrypts, parses, checks the ownerKey and works out
 * the reply, all of it before deciding, so that every failure after the signature is one and the
 * same answer, reached by the same work (docs/protocol.md, "One answer for every failure").
 * @throws SignatureError when the signature does not match (nothing is decrypted);
 * UndecryptableError, whose `detail` is for the log only, for anything wrong after it.
 */
function openPush(settings: Settings, envelope: Envelope): { message: DingTalkMessage; ownerKey: string; text: string } {
  if (!signatureMatches(envelope.signature, settings.token, envelope.timestamp, envelope.nonce, envelope.encrypt)) {
    throw new SignatureError('signature does not match');
  }
  const { message: bytes, ownerKey, fault: cipherFault } = unseal(settings.aesKey, envelope.encrypt);
  let fault = cipherFault;
  let message: DingTalkMessage | undefined;
  try {
    message = parseMessage(bytes);
  } catch (error) {
    fault ??= (error as Error).message;
  }
  // The placeholder is served for the suite-creation check only.
  const served = settings.ownerKeys.includes(ownerKey) || (ownerKey === SUITE_PLACEHOLDER_OWNER_KEY && message?.eventType === PLACEHOLDER_EVENT);
  if (!served) fault ??= 'ciphertext is for an ownerKey this function does not serve';
  let text = '';
  try {
    if (message !== undefined) text = replyText(message);
  } catch (error) {
    fault ??= (error as Error).message;
  }
  if (fault !== undefined || message === undefined) throw new UndecryptableError(fault ?? 'no message');
  return { message, ownerKey, text };
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
