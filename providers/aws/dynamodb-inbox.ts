import { DeleteItemCommand, DynamoDBClient, PutItemCommand, QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { inboxEntryId, type InboxEntry, type RecoverInbox } from '../../core/inbox';
import { storeCall } from './dynamodb-item';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * The recover inbox on DynamoDB: the `RecoverInboxTable` of `serverless.aws.yml`, keyed by `source`
 * (the app) and `replyId` (arrival order). Replies are kept gzip-compressed: a 200-item failed-list
 * page of approvals is ~200 KB of JSON, and an item holds at most 400 KB.
 */
export class DynamoDbInbox implements RecoverInbox {
  readonly tableName: string;
  private readonly client: DynamoDBClient;

  constructor({ tableName, client }: { tableName: string; client: DynamoDBClient }) {
    this.tableName = tableName;
    this.client = client;
  }

  async add(source: string, body: string): Promise<string> {
    const replyId = inboxEntryId(new Date());
    const Item = { source: { S: source }, replyId: { S: replyId }, bodyGzip: { B: await gzipAsync(body) } };
    await storeCall('PutItem', this.client.send(new PutItemCommand({ TableName: this.tableName, Item })));
    return replyId;
  }

  async pending(source: string): Promise<InboxEntry[]> {
    const entries: InboxEntry[] = [];
    let start: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await storeCall(
        'Query',
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            // `source` is a DynamoDB reserved word.
            KeyConditionExpression: '#source = :source',
            ExpressionAttributeNames: { '#source': 'source' },
            ExpressionAttributeValues: { ':source': { S: source } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (item.replyId?.S && item.bodyGzip?.B) entries.push({ id: item.replyId.S, body: (await gunzipAsync(item.bodyGzip.B)).toString('utf8') });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return entries;
  }

  async remove(source: string, id: string): Promise<void> {
    await storeCall('DeleteItem', this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { source: { S: source }, replyId: { S: id } } })));
  }
}
