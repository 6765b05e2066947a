import { buildRecord, type EventRecord } from './events';
import { nonEmptyString, wholeNumber } from './fields';

/** One item of a failed-list reply, whichever API it came from. */
export interface FailedItem {
  /** `call_back_tag`: the event type. */
  eventType: string;
  /** `event_time`, ms. */
  eventTime?: number;
  /** The item's own `corpid` (ISV records carry one beside the data). */
  corpId?: string;
  /** The event's data: an object, or the JSON text DingTalk sent it as. */
  data: unknown;
  /** The ISV failure record's id, the list's cursor. */
  recordId?: number;
}

/** A failed-list reply reduced to what the pass needs. */
export interface FailedPage {
  items: FailedItem[];
  hasMore: boolean;
}

/**
 * The items of a `call_back/get_call_back_failed_result` reply:
 * `failed_list: [{call_back_tag, event_time, <tag>: {corpid, bpmsCallBackData | … | the event's fields}}]`.
 */
export function appFailedPage(reply: Record<string, unknown>): FailedPage {
  const items = listOf(reply).map((entry): FailedItem => {
    const eventType = String(entry.call_back_tag ?? '').trim();
    return { eventType, eventTime: wholeNumber(entry.event_time), data: entry[eventType] ?? null };
  });
  return { items, hasMore: reply.has_more === true };
}

/**
 * The items of a `topapi/callback/failrecord/list` reply:
 * `failed_list: [{id, corpid, call_back_tag, call_back_data (JSON text), event_time}]`.
 */
export function suiteFailedPage(reply: Record<string, unknown>): FailedPage {
  const items = listOf(reply).map((entry): FailedItem => ({
    eventType: String(entry.call_back_tag ?? '').trim(),
    eventTime: wholeNumber(entry.event_time),
    corpId: nonEmptyString(entry.corpid),
    data: entry.call_back_data ?? null,
    recordId: wholeNumber(entry.id),
  }));
  return { items, hasMore: reply.has_more === true };
}

/** The data objects DingTalk wraps an event's fields in, by product. */
const WRAPPERS = ['bpmsCallBackData', 'roleLabelChange', 'callbackData'];

/**
 * The record of a recovered item, `source: "recovered"`: `payload` is the item's data as JSON text
 * (Chinese and emoji as they came; a string DingTalk sent as JSON text is kept as sent).
 * Its id is DingTalk's `eventId` where the data has one, so a late push and its recovered twin are one
 * record; else a hash of the item (type, time, corp, data), so the same item recovered twice is one.
 * `ownerKeyOf` files it under the ownerKey its pushes are encrypted for, which may hang on its corp.
 */
export function recoveredRecord(item: FailedItem, ownerKeyOf: (corpId: string | undefined) => string, receivedAt: Date): EventRecord {
  const payload = payloadText(item.data);
  const fields = objectOf(item.data);
  const layers = [fields, ...WRAPPERS.map((name) => objectOf(fields[name]))];
  const find = (...names: string[]) => {
    for (const layer of layers) for (const name of names) if (nonEmptyString(layer[name]) !== undefined) return layer[name] as string;
    return undefined;
  };
  const corpId = item.corpId ?? find('corpid', 'corpId', 'CorpId', 'AuthCorpId');
  // An item without a tag is still an event DingTalk failed to deliver: kept, under a type that says so.
  const eventType = item.eventType || 'unknown';
  return buildRecord({
    ownerKey: ownerKeyOf(corpId),
    eventType,
    source: 'recovered',
    receivedAt,
    payload,
    bytes: derivedBytes(item, corpId, payload),
    eventId: find('eventId'),
    corpId,
    eventTime: item.eventTime,
    processInstanceId: find('processInstanceId'),
  });
}

/** What identifies an item without DingTalk's eventId: its type, time, corp and data (the same item recovered twice is one record). */
function derivedBytes(item: FailedItem, corpId: string | undefined, payload: string): Buffer {
  return Buffer.from(['recovered', item.eventType, item.eventTime ?? '', corpId ?? '', payload].join('\n'), 'utf8');
}

function payloadText(data: unknown): string {
  if (typeof data === 'string') {
    try {
      const parsed: unknown = JSON.parse(data);
      if (typeof parsed === 'object' && parsed !== null) return data;
    } catch {
      // not JSON text: stored as a JSON string below
    }
  }
  return JSON.stringify(data ?? null);
}

function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return objectOf(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function listOf(reply: Record<string, unknown>): Record<string, unknown>[] {
  const list = reply.failed_list;
  return Array.isArray(list) ? list.filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null) : [];
}
