import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { EventRecord } from '../../core/events';
import { DeliveryError, type Sink } from '../../core/forward';
import { recordJson } from '../../core/json-text';

/** The `source` of every event put on the bus: rules match on it, then route by `detail-type`. */
export const EVENT_SOURCE = 'dingtalk';

/** How long one PutEvents may take, the SDK's own retries included. */
const PUT_EVENTS_TIMEOUT_MS = 5000;

/**
 * An EventBridge sink: one `PutEvents` entry per record, source `dingtalk`, detail-type the event
 * type, detail the record with its payload as JSON, time the first receipt.
 */
export function eventBridgeSink({ client, eventBus }: { client: EventBridgeClient; eventBus: string }): Sink {
  return {
    name: 'eventbridge',
    async deliver(record: EventRecord) {
      const entry = { Source: EVENT_SOURCE, DetailType: record.eventType, Detail: recordJson(record, 0), EventBusName: eventBus, Time: new Date(record.receivedAt) };
      let answer;
      try {
        answer = await client.send(new PutEventsCommand({ Entries: [entry] }), { abortSignal: AbortSignal.timeout(PUT_EVENTS_TIMEOUT_MS) });
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
