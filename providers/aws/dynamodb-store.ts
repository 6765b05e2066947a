import { BatchGetItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { EventRecord } from '../../core/events';
import { listLimit, newestFirst, storedFilters, type EventQuery, type EventStore } from '../../core/listing';
import { fromItem, PROCESS_INDEX, storeCall, TYPE_INDEX, type Item } from './dynamodb-item';
import { DynamoDbEventWriter, type DynamoDbEventWriterOptions } from './dynamodb-writer';

/** How long a put of the tools may take: the function's timeout, not DingTalk's budget. */
const TOOLS_PUT_DEADLINE_MS = 10_000;

/** How the tools reach the table: a ready SDK v3 client, or the config to build one (`endpoint`, `region`, …). */
export interface DynamoDbEventStoreOptions extends DynamoDBClientConfig, Omit<DynamoDbEventWriterOptions, 'client'> {
  client?: DynamoDBClient;
}

/**
 * The whole {@link EventStore} on DynamoDB, for tools: the function's writer, and listings that query
 * the two indexes, which project keys only (payloads are not copied three times), then fetch the
 * records themselves. It writes as the function does, with the SDK v3 client in place of the
 * function's light one (the tools' cold start does not matter).
 */
export class DynamoDbEventStore extends DynamoDbEventWriter implements EventStore {
  private readonly reader: DynamoDBClient;

  constructor(options: DynamoDbEventStoreOptions) {
    const client = options.client ?? new DynamoDBClient(withoutStoreOptions(options));
    super({
      ...options,
      client: { putItem: (input, abortSignal) => client.send(new PutItemCommand(input), { abortSignal }) },
      // DingTalk's 1.5 s binds the function's puts, not the tools'.
      putDeadlineMs: options.putDeadlineMs ?? TOOLS_PUT_DEADLINE_MS,
    });
    this.reader = client;
  }

  async get(id: string): Promise<EventRecord | undefined> {
    const { Item: item } = await storeCall('GetItem', this.reader.send(new GetItemCommand({ TableName: this.tableName, Key: { id: { S: id } }, ConsistentRead: true })));
    return item && fromItem(item);
  }

  async list(options: EventQuery = {}): Promise<EventRecord[]> {
    const query = { ...options, ...storedFilters(options) };
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
        this.reader.send(
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
      for (const item of page.Items ?? []) if (item.id?.S !== undefined) ids.push(item.id.S);
      start = page.LastEvaluatedKey;
    } while (start && ids.length < limit);
    return ids.slice(0, limit);
  }

  /**
   * The ids of the newest records of any type. No index orders the whole table, so this scans the
   * keys-only type index (small items, unlike the table): meant for the CLI, not a hot path.
   */
  private async newestIds(limit: number): Promise<string[]> {
    let newest: { id: string; receivedAt: string }[] = [];
    let start: Item | undefined;
    do {
      const page = await storeCall('Scan', this.reader.send(new ScanCommand({ TableName: this.tableName, IndexName: TYPE_INDEX, ExclusiveStartKey: start })));
      for (const item of page.Items ?? []) {
        if (item.id?.S !== undefined && item.receivedAt?.S !== undefined) newest.push({ id: item.id.S, receivedAt: item.receivedAt.S });
      }
      newest = newest.sort(newestFirst).slice(0, limit);
      start = page.LastEvaluatedKey;
    } while (start);
    return newest.map((entry) => entry.id);
  }

  /** The records of `ids`, in any order; BatchGetItem may leave keys unprocessed, so ask again for those. */
  private async batchGet(ids: string[]): Promise<EventRecord[]> {
    const items: Item[] = [];
    let keys: Item[] = ids.map((id) => ({ id: { S: id } }));
    while (keys.length > 0) {
      const page = await storeCall('BatchGetItem', this.reader.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } })));
      items.push(...(page.Responses?.[this.tableName] ?? []));
      keys = page.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return Promise.all(items.map(fromItem));
  }
}

function withoutStoreOptions({ tableName: _t, client: _c, putDeadlineMs: _p, ...config }: DynamoDbEventStoreOptions) {
  return config;
}
