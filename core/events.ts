import { createHash } from 'node:crypto';
import { BadRequestError, StoreError } from './errors';
import { firstString, nonEmptyString, wholeNumber } from './fields';
import { keysNamedTwice } from './json-text';

/**
 * Where a record came from: a push DingTalk delivered over HTTP, an event it sent over a Stream
 * connection, a row of a SyncHTTP push (ISV apps), or an event fetched back after DingTalk gave up on it.
 */
export type EventSource = 'push' | 'stream' | 'sync' | 'recovered';

/** One stored DingTalk event: the same logical record on every store (docs/architecture.md, "The stored record"). */
export interface EventRecord {
  /** The record's identity, unique in the table: see {@link recordId}. What `events` prints and `events get` takes. */
  id: string;
  /** DingTalk's own `eventId`, when the message has one (capped like every derived field). */
  eventId?: string;
  /** `EventType`, trimmed (capped). */
  eventType: string;
  /** The ownerKey the ciphertext carried (for a recovered event, see docs/recover.md). */
  ownerKey: string;
  /** How the event reached the store. */
  source: EventSource;
  /** `CorpId` / `corpId` / `AuthCorpId` (capped). */
  corpId?: string;
  /** Milliseconds since the epoch, from `TimeStamp` / `createTime` / `EventTime`. */
  eventTime?: number;
  /** ISO-8601 UTC time of first receipt. */
  receivedAt: string;
  /** Approvals only (capped). */
  processInstanceId?: string;
  /** The decrypted message, verbatim (a leading byte-order mark included); for Stream, the frame's `data`. */
  payload: string;
  /** Stream only: the headers of the frame that first brought the event, as DingTalk sent them. */
  headers?: Record<string, string>;
}

/** A decrypted message that passed the checks of docs/protocol.md: JSON with a string `EventType`. */
export interface DingTalkMessage {
  eventType: string;
  /** The message as text, exactly as it was encrypted (a leading byte-order mark included). */
  text: string;
  /** The message parsed. */
  fields: Record<string, unknown>;
  /** The message bytes, for the content-derived identity. */
  bytes: Buffer;
}

/** What identifies an event, whichever way it arrived (a push, or a recovered item). */
export interface EventIdentity {
  /** The ownerKey the event belongs to (the ciphertext's, for a push). */
  ownerKey: string;
  /** Its `EventType`, trimmed. */
  eventType: string;
  /** DingTalk's own `eventId` when the event carries one as a non-empty string. */
  eventId?: string;
  /** The event's message bytes, verbatim: the identity of an event without an `eventId`. */
  bytes: Uint8Array;
  /**
   * Where an identity derived from `bytes` lives: `sha256` for messages (the default), `sync` for
   * SyncHTTP rows, whose `bytes` name the business object's version (docs/isv.md).
   */
  derived?: 'sha256' | 'sync';
}

/**
 * The longest identity stored as it is, in UTF-8 bytes. It has to fit a Tablestore primary-key
 * column (1 KB) and, behind a 25-byte `receivedAt#`, a DynamoDB index sort key (1 KB); longer ones
 * are hashed.
 */
export const MAX_ID_BYTES = 512;

/**
 * Whether `id` could be a record's: {@link recordId} never makes an empty one nor one over
 * {@link MAX_ID_BYTES}. A store answers any other as unknown without asking its table, which would
 * refuse the key outright (an error, where "no such event" is the answer).
 */
export function couldBeRecordId(id: string): boolean {
  return id !== '' && Buffer.byteLength(id, 'utf8') <= MAX_ID_BYTES;
}

/**
 * The longest derived field (eventType, eventId, corpId, processInstanceId) stored as it is, in
 * UTF-8 bytes: far above any real DingTalk value, far below every key limit. Longer values are
 * capped by {@link capField}; the payload keeps them whole.
 */
export const MAX_FIELD_BYTES = 256;

/**
 * The identity of an event, unique per table, the same for every delivery of one event to one owner.
 * Scoped by ownerKey; DingTalk's ids and derived ids live in separate namespaces:
 * - `<ownerKey>:event:<EventType>:<eventId>` for an event that carries DingTalk's `eventId` (the
 *   type is part of it: one id under two types is two events);
 * - `<ownerKey>:sha256:<hex SHA-256 of the message bytes>` for one that does not;
 * - `<ownerKey>:sync:<hex SHA-256 of the bytes>` for a SyncHTTP row that does not;
 * - `hash:<hex SHA-256 of the above>` when the above is over {@link MAX_ID_BYTES}.
 * ownerKey and EventType are percent-encoded, so no `:` inside them can make two ids meet.
 */
export function recordId(identity: EventIdentity): string {
  const owner = encodeURIComponent(identity.ownerKey);
  const natural =
    identity.eventId !== undefined && identity.eventId !== ''
      ? `${owner}:event:${encodeURIComponent(identity.eventType)}:${identity.eventId}`
      : `${owner}:${identity.derived ?? 'sha256'}:${sha256(identity.bytes)}`;
  return Buffer.byteLength(natural, 'utf8') <= MAX_ID_BYTES ? natural : `hash:${sha256(Buffer.from(natural, 'utf8'))}`;
}

/**
 * A derived field as stored: itself up to {@link MAX_FIELD_BYTES}, else its first characters, an
 * ellipsis and a hash of the whole, so that it stays distinct, fits every index key and can be
 * looked up again by capping the query the same way.
 */
export function capField(value: string): string {
  if (Buffer.byteLength(value, 'utf8') <= MAX_FIELD_BYTES) return value;
  let prefix = '';
  for (const char of value) {
    if (Buffer.byteLength(prefix + char, 'utf8') > 160) break;
    prefix += char;
  }
  return `${prefix}…sha256:${sha256(Buffer.from(value, 'utf8'))}`;
}

// ignoreBOM keeps a leading byte-order mark in the text, so the stored payload is the bytes verbatim.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The keys a message's identity is read from: one of them named twice makes the message ambiguous. */
const IDENTITY_KEYS = ['EventType', 'eventId'];

/**
 * Parses a decrypted message as strict UTF-8 JSON with a string `EventType`, naming neither
 * `EventType` nor `eventId` twice; a leading byte-order mark is skipped for parsing and kept in the text.
 * @throws BadRequestError for anything else; the message never quotes the payload.
 */
export function parseMessage(bytes: Buffer): DingTalkMessage {
  let text: string;
  let fields: unknown;
  try {
    text = utf8.decode(bytes);
    fields = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (cause) {
    throw new BadRequestError('decrypted message is not UTF-8 JSON', { cause });
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new BadRequestError('decrypted message is not a JSON object');
  }
  const record = fields as Record<string, unknown>;
  const eventType = typeof record.EventType === 'string' ? record.EventType.trim() : '';
  if (!eventType) throw new BadRequestError('decrypted message has no string EventType');
  const twice = keysNamedTwice(text, IDENTITY_KEYS);
  if (twice.length > 0) throw new BadRequestError(`decrypted message names ${twice.join(' and ')} twice`);
  return { eventType, text, fields: record, bytes };
}

/** The identity of a decrypted message for `ownerKey`: {@link recordId} of its fields. */
export function messageId(message: DingTalkMessage, ownerKey: string): string {
  return recordId({ ownerKey, eventType: message.eventType, eventId: nonEmptyString(message.fields.eventId), bytes: message.bytes });
}

/** What a record is made of, whichever way its event came: the one place its fields are capped and set. */
export interface RecordParts {
  ownerKey: string;
  /** Trimmed, not yet capped. */
  eventType: string;
  source: EventSource;
  receivedAt: Date;
  payload: string;
  /** What identifies the event when it has no `eventId` (see {@link recordId}). */
  bytes: Uint8Array;
  /** The namespace of an identity derived from `bytes` (see {@link recordId}). */
  derived?: EventIdentity['derived'];
  eventId?: string;
  corpId?: string;
  eventTime?: number;
  processInstanceId?: string;
  headers?: Record<string, string>;
}

/** The stored record of an event, as docs/architecture.md's record table says; absent parts stay absent. */
export function buildRecord(parts: RecordParts): EventRecord {
  const { ownerKey, eventType, eventId } = parts;
  const record: EventRecord = {
    id: recordId({ ownerKey, eventType, eventId, bytes: parts.bytes, derived: parts.derived }),
    eventType: capField(eventType),
    ownerKey,
    source: parts.source,
    receivedAt: parts.receivedAt.toISOString(),
    payload: parts.payload,
  };
  if (eventId !== undefined) record.eventId = capField(eventId);
  if (parts.corpId !== undefined) record.corpId = capField(parts.corpId);
  if (parts.eventTime !== undefined) record.eventTime = parts.eventTime;
  if (parts.processInstanceId !== undefined) record.processInstanceId = capField(parts.processInstanceId);
  if (parts.headers !== undefined) record.headers = parts.headers;
  return record;
}

/** The stored record of a pushed message for `ownerKey`. */
export function toRecord(message: DingTalkMessage, ownerKey: string, receivedAt: Date, source: EventSource = 'push'): EventRecord {
  const { fields } = message;
  return buildRecord({
    ownerKey,
    eventType: message.eventType,
    source,
    receivedAt,
    payload: message.text,
    bytes: message.bytes,
    eventId: nonEmptyString(fields.eventId),
    corpId: firstString(fields, ['CorpId', 'corpId', 'AuthCorpId']),
    eventTime: firstTime(fields, ['TimeStamp', 'createTime', 'EventTime']),
    processInstanceId: nonEmptyString(fields.processInstanceId),
  });
}

const SOURCES: readonly EventSource[] = ['push', 'stream', 'sync', 'recovered'];

/**
 * Rebuilds a record from what a store read back: `text(name)` is the stored string field of that
 * name, if any; the payload (when the store keeps it elsewhere than in a `payload` string) and
 * `eventTime` come decoded. Absent optional fields stay absent; `headers` is kept as JSON text.
 * @throws StoreError naming `where` when a required field is missing: what was read is no event record.
 */
export function storedRecord(text: (name: string) => string | undefined, decoded: { payload?: string; eventTime?: number }, where: string): EventRecord {
  const required = (name: string) => {
    const value = text(name);
    if (value === undefined) throw new StoreError(`${where} ${text('id') ?? '?'} has no ${name}: not an event record`);
    return value;
  };
  const source = required('source') as EventSource;
  if (!SOURCES.includes(source)) throw new StoreError(`${where} ${text('id') ?? '?'} has an unknown source: not an event record`);
  const record: EventRecord = {
    id: required('id'),
    eventType: required('eventType'),
    ownerKey: required('ownerKey'),
    source,
    receivedAt: required('receivedAt'),
    payload: decoded.payload ?? required('payload'),
  };
  for (const name of ['eventId', 'corpId', 'processInstanceId'] as const) {
    const value = text(name);
    if (value !== undefined) record[name] = value;
  }
  if (decoded.eventTime !== undefined) record.eventTime = decoded.eventTime;
  const headers = text('headers');
  if (headers !== undefined) record.headers = storedHeaders(headers, `${where} ${record.id}`);
  return record;
}

/** A Stream frame's headers as stores keep them: one JSON text column, written by {@link headersText}. */
export function headersText(headers: Record<string, string>): string {
  return JSON.stringify(headers);
}

function storedHeaders(text: string, where: string): Record<string, string> {
  let headers: unknown;
  try {
    headers = JSON.parse(text);
  } catch (cause) {
    throw new StoreError(`${where} has headers that are not JSON: not an event record`, { cause });
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers) || Object.values(headers).some((value) => typeof value !== 'string')) {
    throw new StoreError(`${where} has headers that are no object of strings: not an event record`);
  }
  return headers as Record<string, string>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The first of `names` that holds a time: numbers in some events, digit strings in others; anything else is no time. */
export function firstTime(fields: Record<string, unknown>, names: readonly string[]): number | undefined {
  for (const name of names) {
    const time = wholeNumber(fields[name]);
    if (time !== undefined) return time;
  }
  return undefined;
}

/**
 * The handshakes DingTalk sends while a callback URL is being saved (docs/protocol.md): answered, and
 * never delivered onward, whatever a store holds of them.
 */
export const HANDSHAKES: ReadonlySet<string> = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);
