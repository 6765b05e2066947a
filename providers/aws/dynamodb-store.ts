import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { StoreError } from '../../core/errors';
import type { EventRecord } from '../../core/events';
import { listLimit, newestFirst, type EventQuery, type EventStore, type PutOutcome } from '../../core/store';

/** The index of records by `eventType`, newest `receivedAt` first (`serverless.aws.yml` defines it). */
export const TYPE_INDEX = 'byEventType';
/** The sparse index of approval records by `processInstanceId`, newest `receivedAt` first. */
export const PROCESS_INDEX = 'byProcessInstance';

/**
 * Payloads above this many UTF-8 bytes are stored gzip-compressed: a DynamoDB item holds at most
 * 400 KB, and the other attributes of a record take far less than the margin left here.
 */
export const PLAIN_PAYLOAD_MAX_BYTES = 350 * 1024;

/**
 * How long a put may take, the SDK's retries and backoff included, before it fails. DingTalk waits
 * 1500 ms for the answer; left alone, the SDK retries a throttled put for up to 5 s and waits for a
 * hung connection forever, so the answer would come too late to tell DingTalk anything.
 */
export const PUT_DEADLINE_MS = 1000;

/** How to reach the table: a ready client, or the config to build one (`endpoint`, `region`, …). */
export interface DynamoDbEventStoreOptions extends DynamoDBClientConfig {
  tableName: string;
  client?: DynamoDBClient;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

type Item = Record<string, AttributeValue>;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * The {@link EventStore} on DynamoDB: one conditional `PutItem` per event, keyed on `eventId`;
 * listings query the two indexes, which project keys only (payloads are not copied three times),
 * then fetch the records themselves.
 */
export class DynamoDbEventStore implements EventStore {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly putDeadlineMs: number;

  constructor({ tableName, client, putDeadlineMs = PUT_DEADLINE_MS, ...config }: DynamoDbEventStoreOptions) {
    this.tableName = tableName;
    this.client = client ?? new DynamoDBClient(config);
    this.putDeadlineMs = putDeadlineMs;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    const item = await toItem(record);
    try {
      // A put cut short may still have been written: the retry DingTalk then sends is a duplicate.
      await this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(eventId)' }),
        { abortSignal: AbortSignal.timeout(this.putDeadlineMs) },
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw storeError('PutItem', error);
    }
  }

  async get(eventId: string): Promise<EventRecord | undefined> {
    const { Item: item } = await storeCall('GetItem', this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { eventId: { S: eventId } }, ConsistentRead: true })));
    return item && fromItem(item);
  }

  async list(query: EventQuery = {}): Promise<EventRecord[]> {
    const limit = listLimit(query);
    const ids = await (query.processInstanceId !== undefined
      ? this.queryIndex(PROCESS_INDEX, 'processInstanceId', query.processInstanceId, limit, query.eventType)
      : query.eventType !== undefined
        ? this.queryIndex(TYPE_INDEX, 'eventType', query.eventType, limit)
        : this.newestIds(limit));
    const records = await this.batchGet(ids);
    return records.sort(newestFirst);
  }

  /** The ids of the newest records under one index key, optionally only those of one type. */
  private async queryIndex(index: string, keyName: string, key: string, limit: number, eventType?: string): Promise<string[]> {
    const ids: string[] = [];
    let start: Item | undefined;
    do {
      const page = await storeCall(
        'Query',
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: '#key = :key',
            ExpressionAttributeNames: { '#key': keyName, ...(eventType !== undefined && { '#type': 'eventType' }) },
            ExpressionAttributeValues: { ':key': { S: key }, ...(eventType !== undefined && { ':type': { S: eventType } }) },
            ...(eventType !== undefined && { FilterExpression: '#type = :type' }),
            ScanIndexForward: false,
            Limit: limit,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) if (item.eventId?.S !== undefined) ids.push(item.eventId.S);
      start = page.LastEvaluatedKey;
    } while (start && ids.length < limit);
    return ids.slice(0, limit);
  }

  /**
   * The ids of the newest records of any type. No index orders the whole table, so this scans the
   * keys-only type index (small items, unlike the table): meant for the CLI, not a hot path.
   */
  private async newestIds(limit: number): Promise<string[]> {
    let newest: { eventId: string; receivedAt: string }[] = [];
    let start: Item | undefined;
    do {
      const page = await storeCall('Scan', this.client.send(new ScanCommand({ TableName: this.tableName, IndexName: TYPE_INDEX, ExclusiveStartKey: start })));
      for (const item of page.Items ?? []) {
        if (item.eventId?.S !== undefined && item.receivedAt?.S !== undefined) newest.push({ eventId: item.eventId.S, receivedAt: item.receivedAt.S });
      }
      newest = newest.sort(newestFirst).slice(0, limit);
      start = page.LastEvaluatedKey;
    } while (start);
    return newest.map((entry) => entry.eventId);
  }

  /** The records of `ids`, in any order; BatchGetItem may leave keys unprocessed, so ask again for those. */
  private async batchGet(ids: string[]): Promise<EventRecord[]> {
    const items: Item[] = [];
    let keys: Item[] = ids.map((eventId) => ({ eventId: { S: eventId } }));
    while (keys.length > 0) {
      const page = await storeCall('BatchGetItem', this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } })));
      items.push(...(page.Responses?.[this.tableName] ?? []));
      keys = page.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return Promise.all(items.map(fromItem));
  }
}

/** The item of a record: optional fields absent rather than empty, a large payload compressed. */
async function toItem(record: EventRecord): Promise<Item> {
  const item: Item = {
    eventId: { S: record.eventId },
    eventType: { S: record.eventType },
    ownerKey: { S: record.ownerKey },
    receivedAt: { S: record.receivedAt },
  };
  if (record.corpId !== undefined) item.corpId = { S: record.corpId };
  if (record.eventTime !== undefined) item.eventTime = { N: String(record.eventTime) };
  if (record.processInstanceId !== undefined) item.processInstanceId = { S: record.processInstanceId };
  if (Buffer.byteLength(record.payload, 'utf8') > PLAIN_PAYLOAD_MAX_BYTES) item.payloadGzip = { B: await gzipAsync(record.payload) };
  else item.payload = { S: record.payload };
  return item;
}

/** The record of an item. @throws StoreError for an item that is no record of ours, as the Tablestore store does. */
async function fromItem(item: Item): Promise<EventRecord> {
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
  if (text('corpId') !== undefined) record.corpId = text('corpId');
  if (item.eventTime?.N !== undefined) record.eventTime = Number(item.eventTime.N);
  if (text('processInstanceId') !== undefined) record.processInstanceId = text('processInstanceId');
  return record;
}

/** A store failure the pipeline answers with 503; the SDK error, which names no secret, is the cause. */
function storeError(operation: string, cause: unknown): StoreError {
  return new StoreError(`DynamoDB ${operation} failed`, { cause });
}

/** `call`, with any failure turned into the {@link StoreError} the pipeline answers with 503. */
function storeCall<T>(operation: string, call: Promise<T>): Promise<T> {
  return call.catch((error: unknown) => {
    throw storeError(operation, error);
  });
}
