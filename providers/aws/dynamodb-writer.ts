import type { EventRecord } from '../../core/events';
import { keepStateOf, type IsvState, type StateOutcome } from '../../core/isv-state';
import { PUT_DEADLINE_MS, type EventWriter, type PutOutcome } from '../../core/store';
import type { AwsJsonClient } from './aws-json-client';
import { storeError, toItem } from './dynamodb-item';
import { NEWER_STATE, stateItem } from './dynamodb-state';

export interface DynamoDbEventWriterOptions {
  tableName: string;
  /** A DynamoDB client (`DYNAMODB` of `aws-json-client.ts`). */
  client: AwsJsonClient;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/**
 * The function's side of the DynamoDB store: one conditional `PutItem` per event, keyed on the
 * record's `id`, and for a ticket or an authorisation a second one keeping the ISV state.
 */
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
    const outcome = await this.putItem(await toItem(record), { ConditionExpression: 'attribute_not_exists(id)' });
    // A duplicate too: the earlier delivery may have stored the record and failed here.
    await keepStateOf(record, (state) => this.putState(state));
    return outcome === 'written' ? 'created' : 'duplicate';
  }

  async putState(state: IsvState): Promise<StateOutcome> {
    const outcome = await this.putItem(stateItem(state), { ...NEWER_STATE, ExpressionAttributeValues: { ':time': { N: String(state.time) } } });
    return outcome === 'written' ? 'updated' : 'stale';
  }

  /** One conditional `PutItem` within the put deadline; a failed condition is an answer. */
  private async putItem(item: object, condition: object): Promise<'written' | 'refused'> {
    try {
      // The abort ends the client's retries and backoff as well as the request in flight.
      await this.client.call('PutItem', { TableName: this.tableName, Item: item, ...condition }, AbortSignal.timeout(this.putDeadlineMs));
      return 'written';
    } catch (error) {
      if ((error as Error | undefined)?.name === 'ConditionalCheckFailedException') return 'refused';
      throw storeError('PutItem', error);
    }
  }
}
