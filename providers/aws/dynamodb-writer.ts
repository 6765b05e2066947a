import type { PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { EventRecord } from '../../core/events';
import { PUT_DEADLINE_MS, type EventWriter, type PutOutcome } from '../../core/store';
import { storeError, toItem } from './dynamodb-item';

/**
 * What the writer needs of a DynamoDB client: one `PutItem`, ended by `signal`, its retries included.
 * It rejects with an error named after DynamoDB's error code (`ConditionalCheckFailedException`…).
 * The function uses `AwsJsonClient` (`dynamoDbPutClient`); the tools adapt the SDK v3 client.
 */
export interface DynamoDbPutClient {
  putItem(input: PutItemCommandInput, signal: AbortSignal): Promise<unknown>;
}

export interface DynamoDbEventWriterOptions {
  tableName: string;
  client: DynamoDbPutClient;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/** The function's side of the DynamoDB store: one conditional `PutItem` per event, keyed on the record's `id`. */
export class DynamoDbEventWriter implements EventWriter {
  readonly tableName: string;
  private readonly putClient: DynamoDbPutClient;
  private readonly putDeadlineMs: number;

  constructor({ tableName, client, putDeadlineMs = PUT_DEADLINE_MS }: DynamoDbEventWriterOptions) {
    this.tableName = tableName;
    this.putClient = client;
    this.putDeadlineMs = putDeadlineMs;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    const item = await toItem(record);
    try {
      // The abort ends the client's retries and backoff as well as the request in flight.
      await this.putClient.putItem(
        { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(id)' },
        AbortSignal.timeout(this.putDeadlineMs),
      );
      return 'created';
    } catch (error) {
      if ((error as Error | undefined)?.name === 'ConditionalCheckFailedException') return 'duplicate';
      throw storeError('PutItem', error);
    }
  }
}
