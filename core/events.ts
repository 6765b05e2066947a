import { createHash } from 'node:crypto';
import { BadRequestError } from './errors';

/** One stored DingTalk event: the same logical record on every store (docs/architecture.md, "The stored record"). */
export interface EventRecord {
  /** The payload's own `eventId` when it is a non-empty string, else hex SHA-256 of the message bytes. */
  eventId: string;
  /** `EventType`, trimmed. */
  eventType: string;
  /** The ownerKey the ciphertext carried (for a recovered event, see docs/recover.md). */
  ownerKey: string;
  /** How it arrived: pushed by DingTalk, or pulled from its failed list by `recover`; absent means a push. */
  source?: 'push' | 'recovered';
  /** `CorpId` / `corpId` / `AuthCorpId`. */
  corpId?: string;
  /** Milliseconds since the epoch, from `TimeStamp` / `createTime` / `EventTime`. */
  eventTime?: number;
  /** ISO-8601 UTC time of first receipt. */
  receivedAt: string;
  /** Approvals only. */
  processInstanceId?: string;
  /** The decrypted message, verbatim. */
  payload: string;
}

/** A decrypted message that passed the checks of docs/protocol.md: JSON with a string `EventType`. */
export interface DingTalkMessage {
  eventType: string;
  /** The message as text, exactly as it was encrypted. */
  text: string;
  /** The message parsed. */
  fields: Record<string, unknown>;
  /** The message bytes, for the content-derived event id. */
  bytes: Buffer;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a decrypted message as strict UTF-8 JSON with a string `EventType`.
 * @throws BadRequestError for anything else; the message never quotes the payload.
 */
export function parseMessage(bytes: Buffer): DingTalkMessage {
  let text: string;
  let fields: unknown;
  try {
    text = utf8.decode(bytes);
    fields = JSON.parse(text);
  } catch (cause) {
    throw new BadRequestError('decrypted message is not UTF-8 JSON', { cause });
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new BadRequestError('decrypted message is not a JSON object');
  }
  const record = fields as Record<string, unknown>;
  const eventType = typeof record.EventType === 'string' ? record.EventType.trim() : '';
  if (!eventType) throw new BadRequestError('decrypted message has no string EventType');
  return { eventType, text, fields: record, bytes };
}

/** The id a message is stored under: its own `eventId` when a non-empty string, else hex SHA-256 of its bytes. */
export function eventIdOf(message: DingTalkMessage): string {
  return nonEmptyString(message.fields.eventId) ?? createHash('sha256').update(message.bytes).digest('hex');
}

/** Derives the stored record of a message, as the record table of docs/architecture.md says. */
export function toRecord(message: DingTalkMessage, ownerKey: string, receivedAt: Date): EventRecord {
  const { fields } = message;
  const record: EventRecord = {
    eventId: eventIdOf(message),
    eventType: message.eventType,
    ownerKey,
    receivedAt: receivedAt.toISOString(),
    payload: message.text,
  };
  const corpId = firstString(fields, ['CorpId', 'corpId', 'AuthCorpId']);
  if (corpId !== undefined) record.corpId = corpId;
  const eventTime = firstTime(fields, ['TimeStamp', 'createTime', 'EventTime']);
  if (eventTime !== undefined) record.eventTime = eventTime;
  const processInstanceId = nonEmptyString(fields.processInstanceId);
  if (processInstanceId !== undefined) record.processInstanceId = processInstanceId;
  return record;
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function firstString(fields: Record<string, unknown>, names: string[]): string | undefined {
  for (const name of names) {
    const value = nonEmptyString(fields[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Times come as numbers in some events and digit strings in others; anything else is no time. */
function firstTime(fields: Record<string, unknown>, names: string[]): number | undefined {
  for (const name of names) {
    const value = fields[name];
    const time = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof time === 'number' && Number.isSafeInteger(time) && time >= 0) return time;
  }
  return undefined;
}

/**
 * The handshakes DingTalk sends while a callback URL is being saved (docs/protocol.md): answered, and
 * never delivered onward, whatever a store holds of them.
 */
export const HANDSHAKE_EVENT_TYPES: ReadonlySet<string> = new Set(['check_url', 'check_create_suite_url', 'check_update_suite_url']);
