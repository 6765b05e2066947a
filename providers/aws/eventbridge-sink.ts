import type { EventRecord } from '../../core/events';
import { DeliveryError, envelopeData, type Sink } from '../../core/forward';
import { recordJson } from '../../core/json-text';
import type { AwsJsonClient } from './aws-json-client';

/** The `source` of every event put on the bus: rules match on it, then route by `detail-type`. */
export const EVENT_SOURCE = 'dingtalk';

/** How long one PutEvents may take, the client's own retries included. */
const PUT_EVENTS_TIMEOUT_MS = 5000;

/** The part of EventBridge's `PutEvents` answer read here. */
interface PutEventsAnswer {
  FailedEntryCount?: number;
  Entries?: Array<{ ErrorCode?: string }>;
}

/**
 * An EventBridge sink: one `PutEvents` entry per record, source `dingtalk`, detail-type the event
 * type, detail the record with its payload as JSON, time the first receipt (seconds since the
 * epoch, as the JSON protocol carries a timestamp). `client` makes its `EVENTBRIDGE` client, at
 * the first delivery.
 */
export function eventBridgeSink({ client, eventBus }: { client: () => AwsJsonClient; eventBus: string }): Sink {
  let made: AwsJsonClient | undefined;
  return {
    name: 'eventbridge',
    async deliver(record: EventRecord) {
      const entry = { Source: EVENT_SOURCE, DetailType: record.eventType, Detail: recordJson(envelopeData(record), 0), EventBusName: eventBus, Time: Date.parse(record.receivedAt) / 1000 };
      let answer: PutEventsAnswer;
      try {
        answer = await (made ??= client()).call<PutEventsAnswer>('PutEvents', { Entries: [entry] }, AbortSignal.timeout(PUT_EVENTS_TIMEOUT_MS));
      } catch (error) {
        const name = (error as Error).name;
        // A malformed or oversized entry stays so however often it is sent.
        throw new DeliveryError(`PutEvents failed (${name})`, name !== 'ValidationException');
      }
      const failed = answer.Entries?.[0];
      if ((answer.FailedEntryCount ?? 0) > 0 || failed?.ErrorCode) throw new DeliveryError(`PutEvents refused the entry (${failed?.ErrorCode ?? 'unknown'})`);
    },
  };
}
