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

type TriggerRecord = { Type: string; Info: { Timestamp: number }; PrimaryKey: { ColumnName: string; Value: unknown }[]; Columns: { Type: string; ColumnName: string; Value: unknown; Timestamp: number }[] };

/**
 * A Tablestore trigger event as Function Compute hands it over: CBOR of `{Version: "Sync-v1",
 * Records}`, one `PutRow` per record shaped as in `testkit/events/fc-tablestore-trigger.json`
 * (the documented format), the columns the writer puts; or that fixture itself, encoded.
 */
export async function tablestoreTriggerEvent(records?: EventRecord[]): Promise<Uint8Array> {
  const { encode } = await import('cborg');
  const fixture = loadJson<{ Version: string; Records: TriggerRecord[] }>('fc-tablestore-trigger');
  if (!records) return encode(fixture);
  const timestamp = Date.now();
  return encode({
    Version: fixture.Version,
    Records: records.map(({ id, ...columns }, index) => ({
      Type: 'PutRow',
      Info: { Timestamp: (timestamp + index) * 1000 },
      PrimaryKey: [{ ColumnName: 'id', Value: id }],
      Columns: Object.entries(columns)
        .filter((entry) => entry[1] !== undefined)
        .map(([ColumnName, Value]) => ({ Type: 'Put', ColumnName, Value, Timestamp: timestamp })),
    })),
  });
}
