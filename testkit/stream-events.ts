import type { EventRecord } from '../core/events';
import { toItem } from '../providers/aws/dynamodb-item';
import type { DynamoDbStreamEvent } from '../providers/aws/dynamodb-stream';
import { loadJson } from './fixtures';

type StreamRecord = DynamoDbStreamEvent['Records'][number] & { dynamodb: Record<string, unknown> };

/**
 * A DynamoDB stream batch of inserts as Lambda hands it over, one record per event, shaped as the
 * documented example in `testkit/events/dynamodb-stream-batch.json`: the new image is the store's
 * item in JSON form, binary attributes as base64.
 */
export async function dynamoDbStreamEvent(records: EventRecord[], firstSequence = 1): Promise<DynamoDbStreamEvent> {
  const [template] = loadJson<{ Records: StreamRecord[] }>('dynamodb-stream-batch').Records as [StreamRecord];
  return {
    Records: await Promise.all(
      records.map(async (record, index) => {
        const item = await toItem(record);
        const image = Object.fromEntries(Object.entries(item).map(([name, value]) => [name, value.B ? { B: Buffer.from(value.B).toString('base64') } : value]));
        const sequence = String(firstSequence + index).padStart(24, '0');
        return { ...template, eventID: `evt${sequence}`, dynamodb: { ...template.dynamodb, Keys: { id: image.id }, NewImage: image, SequenceNumber: sequence } };
      }),
    ),
  } as DynamoDbStreamEvent;
}
