import { promisify } from 'node:util';
import { StoreError, UnstorableEventError } from '../../core/errors';
import { headersText, storedRecord, type EventRecord } from '../../core/events';
import { encodeListKey } from '../../core/listing';
import type { AwsJsonClient } from './aws-json-client';

/**
 * The index of every record by the month it was received (`receivedMonth`, `YYYY-MM`), sorted by
 * `listKey` (`<receivedAt>#<id>`): a newest-first listing walks the months backwards and reads only
 * what its page needs. `serverless.aws.yml` defines the three indexes, keys only.
 */
export const TIME_INDEX = 'byMonth';
/** The index of records by `eventType`, sorted by `listKey`. */
export const TYPE_INDEX = 'byEventType';
/** The sparse index of approval records by `processInstanceId`, sorted by `listKey` (with `eventType`, to filter on). */
export const PROCESS_INDEX = 'byProcessInstance';

/** The time bucket of a record: the month of `receivedAt`, `YYYY-MM`. */
export function receivedMonth(receivedAt: string): string {
  return receivedAt.slice(0, 7);
}

/**
 * Payloads above this many UTF-8 bytes are stored gzip-compressed: a DynamoDB item holds at most
 * 400 KB, and the other attributes of a record take far less than the margin left here.
 */
export const PLAIN_PAYLOAD_MAX_BYTES = 350 * 1024;

/** DynamoDB's item size limit: attribute names and values, in bytes. */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * One attribute value of DynamoDB's JSON protocol, the types a record uses. Bytes (`B`) go out as
 * a `Uint8Array`, which the client sends as base64, and come back as that base64 text (as in a
 * stream record's image): {@link bytesOf} reads either.
 */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: Uint8Array | string;
}

/** A DynamoDB item in the low-level attribute-value form. */
export type Item = Record<string, AttributeValue>;

/** The bytes of a `B` value, as written or as read back in base64. */
export function bytesOf(value: Uint8Array | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * `node:zlib`, loaded at the first payload that needs it: most pushes are small, and loading it at
 * every cold start cost ~3 ms of CPU (docs/performance.md).
 */
const zlib = () => import('node:zlib');
const gzipAsync = async (text: string) => promisify((await zlib()).gzip)(text);
const gunzipAsync = async (bytes: Uint8Array) => promisify((await zlib()).gunzip)(bytes);

/**
 * The item of a record: optional fields absent rather than empty, a large payload compressed.
 * @throws UnstorableEventError when the item would still be over DynamoDB's 400 KB, which no retry changes.
 */
export async function toItem(record: EventRecord): Promise<Item> {
  const item: Item = {
    id: { S: record.id },
    eventType: { S: record.eventType },
    ownerKey: { S: record.ownerKey },
    source: { S: record.source },
    receivedAt: { S: record.receivedAt },
    receivedMonth: { S: receivedMonth(record.receivedAt) },
    listKey: { S: encodeListKey(record) },
  };
  if (record.eventId !== undefined) item.eventId = { S: record.eventId };
  if (record.corpId !== undefined) item.corpId = { S: record.corpId };
  if (record.eventTime !== undefined) item.eventTime = { N: String(record.eventTime) };
  if (record.processInstanceId !== undefined) item.processInstanceId = { S: record.processInstanceId };
  if (record.headers !== undefined) item.headers = { S: headersText(record.headers) };
  if (Buffer.byteLength(record.payload, 'utf8') > PLAIN_PAYLOAD_MAX_BYTES) item.payloadGzip = { B: await gzipAsync(record.payload) };
  else item.payload = { S: record.payload };
  const size = itemBytes(item);
  if (size > MAX_ITEM_BYTES) {
    throw new UnstorableEventError(`the event takes ${size} bytes as a DynamoDB item (its payload compressed), over DynamoDB's ${MAX_ITEM_BYTES}-byte item limit`);
  }
  return item;
}

/** An item's size as DynamoDB counts it: names and values in bytes (numbers at most 21 bytes). */
export function itemBytes(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name, 'utf8');
    if (value.S !== undefined) size += Buffer.byteLength(value.S, 'utf8');
    else if (value.B !== undefined) size += bytesOf(value.B).byteLength;
    else if (value.N !== undefined) size += 21;
  }
  return size;
}

/** The record of an item. @throws StoreError for an item that is no record of ours, as the Tablestore store does. */
export async function fromItem(item: Item): Promise<EventRecord> {
  const compressed = item.payloadGzip?.B;
  return storedRecord((name) => item[name]?.S, {
    payload: compressed ? (await gunzipAsync(bytesOf(compressed))).toString('utf8') : undefined,
    eventTime: item.eventTime?.N === undefined ? undefined : Number(item.eventTime.N),
  }, 'DynamoDB item');
}

/**
 * A store failure as the pipeline answers it; the client's error, which names no secret, is the cause.
 * DynamoDB's `ValidationException` on a put means the item can never be stored: 413, not a 503 that
 * DingTalk would retry forever. Its message is not repeated (it may quote values); everything else,
 * and any failed read, is a {@link StoreError}.
 */
export function storeError(operation: string, cause: unknown): StoreError | UnstorableEventError {
  if (operation === 'PutItem' && (cause as { name?: unknown } | null)?.name === 'ValidationException') {
    return new UnstorableEventError(`DynamoDB refused the event's item (${operation}: ValidationException)`, { cause });
  }
  return new StoreError(`DynamoDB ${operation} failed`, { cause });
}

/** One DynamoDB call, with any failure turned into the {@link StoreError} the pipeline answers with 503. */
export async function storeCall<T>(client: AwsJsonClient, operation: string, input: object): Promise<T> {
  try {
    return await client.call<T>(operation, input);
  } catch (error) {
    throw storeError(operation, error);
  }
}
