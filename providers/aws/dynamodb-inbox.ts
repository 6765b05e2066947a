import { inboxEntries, inboxEntryId, inboxRows, type InboxEntry, type InboxRow, type RecoverInbox } from '../../core/inbox';
import type { AwsJsonClient } from './aws-json-client';
import { bytesOf, storeCall, type Item } from './dynamodb-item';

/**
 * The most compressed bytes one inbox item holds: DynamoDB's item limit is 400 KB, keys and
 * attribute names included.
 */
const PART_BYTES = 350 * 1024;

/**
 * The recover inbox on DynamoDB: the `RecoverInboxTable` of `serverless.aws.yml`, keyed by `source`
 * (the app) and `replyId` (arrival order). Entries are kept gzip-compressed in `bodyGzip`, and one
 * whose compressed body is over {@link PART_BYTES} is split over several items (`parts` on the
 * first), so no reply DingTalk sends is ever too large to keep.
 */
export class DynamoDbInbox implements RecoverInbox {
  readonly tableName: string;
  private readonly client: AwsJsonClient;

  /** `client`: a DynamoDB client (`DYNAMODB` of `aws-json-client.ts`), the events table's. */
  constructor({ tableName, client }: { tableName: string; client: AwsJsonClient }) {
    this.tableName = tableName;
    this.client = client;
  }

  async add(source: string, body: string, id = inboxEntryId(new Date())): Promise<string> {
    for (const row of await inboxRows(id, body, PART_BYTES)) {
      const Item = { source: { S: source }, replyId: { S: row.rowId }, bodyGzip: { B: row.bytes }, ...(row.parts > 1 && { parts: { N: String(row.parts) } }) };
      await storeCall(this.client, 'PutItem', { TableName: this.tableName, Item });
    }
    return id;
  }

  async pending(source: string): Promise<InboxEntry[]> {
    const rows: InboxRow[] = [];
    for (const item of await this.query(source)) {
      if (item.replyId?.S && item.bodyGzip?.B) rows.push({ rowId: item.replyId.S, bytes: bytesOf(item.bodyGzip.B), parts: item.parts?.N ? Number(item.parts.N) : undefined });
    }
    return inboxEntries(rows);
  }

  async remove(source: string, id: string): Promise<void> {
    // The first row first: without it the entry is no longer whole, whatever happens to the rest.
    const ids = (await this.query(source, id)).map((item) => item.replyId?.S).filter((rowId): rowId is string => rowId !== undefined);
    for (const replyId of [id, ...ids.filter((rowId) => rowId !== id)]) {
      await storeCall(this.client, 'DeleteItem', { TableName: this.tableName, Key: { source: { S: source }, replyId: { S: replyId } } });
    }
  }

  /** Every item of `source`, or only those of entry `id` (its keys only), in key order. */
  private async query(source: string, id?: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await storeCall<{ Items?: Item[]; LastEvaluatedKey?: Item }>(this.client, 'Query', {
        TableName: this.tableName,
        // `source` is a DynamoDB reserved word.
        KeyConditionExpression: id === undefined ? '#source = :source' : '#source = :source AND begins_with(replyId, :id)',
        ExpressionAttributeNames: { '#source': 'source' },
        ExpressionAttributeValues: { ':source': { S: source }, ...(id !== undefined && { ':id': { S: id } }) },
        ...(id !== undefined && { ProjectionExpression: 'replyId' }),
        ConsistentRead: true,
        ExclusiveStartKey: start,
      });
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
