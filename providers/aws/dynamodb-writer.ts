import type { EventRecord } from '../../core/events';
import { PUT_DEADLINE_MS, type EventWriter, type PutOutcome } from '../../core/store';
import type { AwsJsonClient } from './aws-json-client';
import { storeError, toItem } from './dynamodb-item';

export interface DynamoDbEventWriterOptions {
  tableName: string;
  /** A DynamoDB client (`DYNAMODB` of `aws-json-client.ts`). */
  client: AwsJsonClient;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/** The function's side of the DynamoDB store: one conditional `PutItem` per event, keyed on the record's `id`. */
export class DynamoDbEventWriter implements EventWriter {
  readonly tableName: string;
  protected readonly client: AwsJsonClient;
  private readonly putDeadlineMs: number;

  constructor({ tableName, client, putDeadlineMs = PUT_DEADLINE_MS }: DynamoDbEventWriterOptions) {
    this.tableName = tableName;
    this.client = client;
    this.putDeadlineMs = putDeadlineMs;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    const item = await toItem(record);
    try {
      // The abort ends the client's retries and backoff as well as the request in flight.
      await this.client.call('PutItem', { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(id)' }, AbortSignal.timeout(this.putDeadlineMs));
      return 'created';
    } catch (error) {
      if ((error as Error | undefined)?.name === 'ConditionalCheckFailedException') return 'duplicate';
      throw storeError('PutItem', error);
    }
  }
}
