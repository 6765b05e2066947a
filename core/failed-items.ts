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
  /** The item as JSON text, what is kept of it should it be set aside. */
  text: string;
  /** Why no record can be made of it, if so: it is set aside rather than stored. */
  problem?: string;
}

/** A failed-list reply reduced to what the pass needs. */
export interface FailedPage {
  items: FailedItem[];
  hasMore: boolean;
}

/**
 * The page a failed-list reply's text holds, read with `parse` ({@link appFailedPage} or
 * {@link suiteFailedPage}), or why it cannot be read: not JSON, no JSON object, or a `failed_list`
 * that is no list. A reply with an errcode (kept before it was checked) holds no items.
 */
export function readFailedPage(text: string, parse: (reply: Record<string, unknown>) => FailedPage): FailedPage | string {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    return 'is not JSON (cut short, or not from DingTalk)';
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) return 'is not a JSON object';
  const fields = reply as Record<string, unknown>;
  if (Object.hasOwn(fields, 'errcode') && fields.errcode !== 0) return { items: [], hasMore: false };
  if (Object.hasOwn(fields, 'failed_list') && !Array.isArray(fields.failed_list)) return 'has a failed_list that is not a list';
  return parse(fields);
}

/**
 * The items of a `call_back/get_call_back_failed_result` reply:
 * `failed_list: [{call_back_tag, event_time, <tag>: {corpid, bpmsCallBackData | … | the event's fields}}]`.
 * An item without its data under its own tag (only an own property counts: a tag `constructor`
 * names no data of an item that has none) is kept to be set aside.
 */
export function appFailedPage(reply: Record<string, unknown>): FailedPage {
  const items = listOf(reply).map((entry): FailedItem => {
    const { fields, text, problem } = entry;
    const eventType = String(own(fields, 'call_back_tag') ?? '').trim();
    const data = own(fields, eventType);
    const missing = problem ?? (data === undefined ? `carries no data under its call_back_tag${eventType ? ` ${JSON.stringify(eventType)}` : ''}` : undefined);
    return { eventType, eventTime: wholeNumber(own(fields, 'event_time')), data: data ?? null, text, ...(missing !== undefined && { problem: missing }) };
  });
  return { items, hasMore: reply.has_more === true };
}

/**
 * The items of a `topapi/callback/failrecord/list` reply:
 * `failed_list: [{id, corpid, call_back_tag, call_back_data (JSON text), event_time}]`.
 */
export function suiteFailedPage(reply: Record<string, unknown>): FailedPage {
  const items = listOf(reply).map(({ fields, text, problem }): FailedItem => {
    const data = own(fields, 'call_back_data');
    const missing = problem ?? (data === undefined ? 'carries no call_back_data' : undefined);
    return {
      eventType: String(own(fields, 'call_back_tag') ?? '').trim(),
      eventTime: wholeNumber(own(fields, 'event_time')),
      corpId: nonEmptyString(own(fields, 'corpid')),
      data: data ?? null,
      recordId: wholeNumber(own(fields, 'id')),
      text,
      ...(missing !== undefined && { problem: missing }),
    };
  });
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
  const layers = [fields, ...WRAPPERS.map((name) => objectOf(own(fields, name)))];
  const find = (...names: string[]) => {
    for (const layer of layers) for (const name of names) if (nonEmptyString(own(layer, name)) !== undefined) return layer[name] as string;
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

/** The entries of `failed_list`, each with its JSON text; one that is no JSON object is kept to be set aside. */
function listOf(reply: Record<string, unknown>): Array<{ fields: Record<string, unknown>; text: string; problem?: string }> {
  const list = own(reply, 'failed_list');
  if (!Array.isArray(list)) return [];
  return list.map((entry: unknown) => {
    const text = JSON.stringify(entry) ?? 'null';
    return typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? { fields: entry as Record<string, unknown>, text } : { fields: {}, text, problem: 'is not a JSON object' };
  });
}

/** `fields[name]` when `fields` has it as its own property: an inherited one (`constructor`, `toString`) is no field. */
function own(fields: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}
