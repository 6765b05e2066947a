import type { EventRecord } from '../../core/events';
import { isStateId } from '../../core/isv-state';
import { fromItem, type Item } from './dynamodb-item';

/** The fields of a DynamoDB Streams record (as Lambda hands it over) that the forward function reads. */
export interface DynamoDbStreamRecord {
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  dynamodb?: {
    SequenceNumber?: string;
    /** Attribute values as JSON, as the client reads them: binary ones (`B`) arrive as base64 text. */
    NewImage?: Item;
  };
}

/** A Lambda event from a DynamoDB stream. */
export interface DynamoDbStreamEvent {
  Records: DynamoDbStreamRecord[];
}

/** One stream record decoded: the event record of a new item, or why there is none. */
export type DecodedStreamRecord = { sequenceNumber: string; record: EventRecord } | { sequenceNumber: string; skipped: string };

/** True for anything shaped as a DynamoDB stream event. */
export function isDynamoDbStreamEvent(event: unknown): event is DynamoDbStreamEvent {
  return typeof event === 'object' && event !== null && Array.isArray((event as { Records?: unknown }).Records);
}

/**
 * Decodes the inserts of a stream batch through the store's own item codec. Anything else (a
 * modify or remove, which the event source's filter already keeps out; an ISV state item; an item
 * that is no event record) is `skipped` with the reason, since no retry could make it a record.
 */
export async function decodeStreamRecords(event: DynamoDbStreamEvent): Promise<DecodedStreamRecord[]> {
  return Promise.all(
    event.Records.map(async (streamRecord, index) => {
      const sequenceNumber = streamRecord.dynamodb?.SequenceNumber ?? String(index);
      const image = streamRecord.dynamodb?.NewImage;
      if (streamRecord.eventName !== 'INSERT' || !image) return { sequenceNumber, skipped: `${streamRecord.eventName ?? 'unknown'} without a new image` };
      if (isStateId(image.id?.S ?? '')) return { sequenceNumber, skipped: 'an ISV state item, not an event' };
      try {
        return { sequenceNumber, record: await fromItem(image) };
      } catch (error) {
        return { sequenceNumber, skipped: (error as Error).message };
      }
    }),
  );
}
