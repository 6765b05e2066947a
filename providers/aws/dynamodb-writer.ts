import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { EventRecord } from '../../core/events';
import type { EventWriter, PutOutcome } from '../../core/store';
import { storeError, toItem } from './dynamodb-item';

/**
 * How long a put may take, the SDK's retries and backoff included, before it fails. DingTalk waits
 * 1500 ms for the answer; left alone, the SDK retries a throttled put for up to 5 s and waits for a
 * hung connection forever, so the answer would come too late to tell DingTalk anything.
 */
export const PUT_DEADLINE_MS = 1000;

/** How to reach the table: a ready client, or the config to build one (`endpoint`, `region`, …). */
export interface DynamoDbEventWriterOptions extends DynamoDBClientConfig {
  tableName: string;
  client?: DynamoDBClient;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/** The function's side of the DynamoDB store: one conditional `PutItem` per event, keyed on `eventId`. */
export class DynamoDbEventWriter implements EventWriter {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly putDeadlineMs: number;

  constructor({ tableName, client, putDeadlineMs = PUT_DEADLINE_MS, ...config }: DynamoDbEventWriterOptions) {
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
}
