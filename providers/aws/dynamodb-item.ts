import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { StoreError } from '../../core/errors';
import type { EventRecord } from '../../core/events';

/** The index of records by `eventType`, newest `receivedAt` first (`serverless.aws.yml` defines it). */
export const TYPE_INDEX = 'byEventType';
/** The sparse index of approval records by `processInstanceId`, newest `receivedAt` first. */
export const PROCESS_INDEX = 'byProcessInstance';

/**
 * Payloads above this many UTF-8 bytes are stored gzip-compressed: a DynamoDB item holds at most
 * 400 KB, and the other attributes of a record take far less than the margin left here.
 */
export const PLAIN_PAYLOAD_MAX_BYTES = 350 * 1024;

/** A DynamoDB item in the low-level attribute-value form. */
export type Item = Record<string, AttributeValue>;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The item of a record: optional fields absent rather than empty, a large payload compressed. */
export async function toItem(record: EventRecord): Promise<Item> {
  const item: Item = {
    eventId: { S: record.eventId },
    eventType: { S: record.eventType },
    ownerKey: { S: record.ownerKey },
    receivedAt: { S: record.receivedAt },
  };
  if (record.source !== undefined) item.source = { S: record.source };
  if (record.corpId !== undefined) item.corpId = { S: record.corpId };
  if (record.eventTime !== undefined) item.eventTime = { N: String(record.eventTime) };
  if (record.processInstanceId !== undefined) item.processInstanceId = { S: record.processInstanceId };
  if (Buffer.byteLength(record.payload, 'utf8') > PLAIN_PAYLOAD_MAX_BYTES) item.payloadGzip = { B: await gzipAsync(record.payload) };
  else item.payload = { S: record.payload };
  return item;
}

/** The record of an item. @throws StoreError for an item that is no record of ours, as the Tablestore store does. */
export async function fromItem(item: Item): Promise<EventRecord> {
  const text = (name: string) => item[name]?.S;
  const required = (name: string) => {
    const value = text(name);
    if (value === undefined) throw new StoreError(`DynamoDB item ${text('eventId') ?? '?'} has no ${name}: not an event record`);
    return value;
  };
  const compressed = item.payloadGzip?.B;
  const record: EventRecord = {
    eventId: required('eventId'),
    eventType: required('eventType'),
    ownerKey: required('ownerKey'),
    receivedAt: required('receivedAt'),
    payload: compressed ? (await gunzipAsync(compressed)).toString('utf8') : required('payload'),
  };
  const source = text('source');
  if (source === 'push' || source === 'recovered') record.source = source;
  if (text('corpId') !== undefined) record.corpId = text('corpId');
  if (item.eventTime?.N !== undefined) record.eventTime = Number(item.eventTime.N);
  if (text('processInstanceId') !== undefined) record.processInstanceId = text('processInstanceId');
  return record;
}

/** A store failure the pipeline answers with 503; the SDK error, which names no secret, is the cause. */
export function storeError(operation: string, cause: unknown): StoreError {
  return new StoreError(`DynamoDB ${operation} failed`, { cause });
}

/** `call`, with any failure turned into the {@link StoreError} the pipeline answers with 503. */
export function storeCall<T>(operation: string, call: Promise<T>): Promise<T> {
  return call.catch((error: unknown) => {
    throw storeError(operation, error);
  });
}
