import { couldBeRecordId, type EventRecord } from '../../core/events';
import { stateId, type IsvState, type IsvStateStore, type SuiteTicketState } from '../../core/isv-state';
import { TOOLS_PUT_DEADLINE_MS } from '../../core/store';
import { decodeListKey, encodeCursor, keyRange, listLimit, storedFilters, type EventPage, type EventQuery, type EventStore } from '../../core/listing';
import { fromItem, PROCESS_INDEX, receivedMonth, storeCall, TIME_INDEX, TYPE_INDEX, type Item } from './dynamodb-item';
import { fromStateItem, STATE_TYPE } from './dynamodb-state';
import { DynamoDbEventWriter, type DynamoDbEventWriterOptions } from './dynamodb-writer';

/**
 * The oldest month a listing without `since` walks back to when the table cannot tell a later one
 * (see {@link oldestListedMonth}). DingTalk's open platform has pushed callbacks since 2015, so no
 * event can be older; walking empty months costs a request each, no item.
 */
export const OLDEST_MONTH = '2015-01';

/** How far before the table's creation a listing still looks, for clocks that disagree. */
const CREATION_SLACK_MS = 86_400_000;

/** The most ISV state items read at once: a suite's ticket and one item per authorising organisation. */
const MAX_STATES = 100_000;

/** BatchGetItem takes at most this many keys per request. */
const BATCH_GET_KEYS = 100;

/** An index entry: the record's id, and its place in the listing order. */
interface Entry {
  id: string;
  listKey: string;
}

export interface DynamoDbEventStoreOptions extends DynamoDbEventWriterOptions {
  /**
   * The oldest month (`YYYY-MM`) a listing without `since` walks back to: by default the table's
   * {@link oldestListedMonth}; {@link OLDEST_MONTH} for a table holding records copied in from before it was made.
   */
  oldestMonth?: string;
}

/** The part of a `Query` answer read here. */
interface QueryAnswer {
  Items?: Item[];
  LastEvaluatedKey?: Item;
}

/** The part of a `BatchGetItem` answer read here. */
interface BatchGetAnswer {
  Responses?: Record<string, Item[]>;
  UnprocessedKeys?: Record<string, { Keys?: Item[] }>;
}

/** The part of a `DescribeTable` answer read here: times are seconds since the epoch, as the JSON protocol carries them. */
export interface TableDescription {
  CreationDateTime?: number;
  RestoreSummary?: object;
}

/**
 * The whole {@link EventStore} on DynamoDB, for tools and the recover function: the function's
 * writer, and listings that query one of three keys-only indexes (payloads are not copied three
 * times) newest first, then fetch the page's records by id. A page reads its own size from an index
 * plus one entry, and then the page. Puts allow the tools' deadline unless told otherwise.
 */
export class DynamoDbEventStore extends DynamoDbEventWriter implements EventStore, IsvStateStore {
  /** The month listings without `since` stop at, asked of the table once. */
  private oldest?: Promise<string>;

  constructor(options: DynamoDbEventStoreOptions) {
    super({ ...options, putDeadlineMs: options.putDeadlineMs ?? TOOLS_PUT_DEADLINE_MS });
    if (options.oldestMonth !== undefined) this.oldest = Promise.resolve(options.oldestMonth);
  }

  async get(id: string): Promise<EventRecord | undefined> {
    if (!couldBeRecordId(id)) return undefined;
    const { Item: item } = await storeCall<{ Item?: Item }>(this.client, 'GetItem', { TableName: this.tableName, Key: { id: { S: id } }, ConsistentRead: true });
    return item && fromItem(item);
  }

  async suiteTicket(suiteKey: string): Promise<SuiteTicketState | undefined> {
    const { Item: item } = await storeCall<{ Item?: Item }>(this.client, 'GetItem', { TableName: this.tableName, Key: { id: { S: stateId({ kind: 'suite_ticket', suiteKey }) } }, ConsistentRead: true });
    const state = fromStateItem(item);
    return state?.kind === 'suite_ticket' ? state : undefined;
  }

  /** Every state item, by the type index (keys only) and then the items: as many reads as there are states, in pages. */
  async isvStates(): Promise<IsvState[]> {
    const entries = await this.queryIndex(TYPE_INDEX, 'eventType', STATE_TYPE, {}, MAX_STATES);
    const items = await this.batchItems(entries.map((entry) => entry.id));
    return entries.flatMap((entry) => fromStateItem(items.get(entry.id)) ?? []);
  }

  async list(query: EventQuery = {}): Promise<EventPage> {
    const { eventType, processInstanceId } = storedFilters(query);
    const range = keyRange(query);
    const wanted = listLimit(query) + 1; // one past the page says whether there is more
    let entries: Entry[];
    if (processInstanceId !== undefined) entries = await this.queryIndex(PROCESS_INDEX, 'processInstanceId', processInstanceId, range, wanted, eventType);
    else if (eventType !== undefined) entries = await this.queryIndex(TYPE_INDEX, 'eventType', eventType, range, wanted);
    else {
      entries = [];
      const oldest = range.lower !== undefined ? receivedMonth(range.lower) : await this.oldestMonth();
      for (const month of monthsBack(range.upper, oldest)) {
        entries.push(...(await this.queryIndex(TIME_INDEX, 'receivedMonth', month, range, wanted - entries.length)));
        if (entries.length >= wanted) break;
      }
    }
    const limit = wanted - 1;
    const records = await this.batchGet(entries.slice(0, limit).map((entry) => entry.id));
    return entries.length > limit ? { records, cursor: encodeCursor(entries[limit - 1]!.listKey) } : { records };
  }

  /** The table's {@link oldestListedMonth}; {@link OLDEST_MONTH} when it cannot be read (a role without `dynamodb:DescribeTable`). */
  private oldestMonth(): Promise<string> {
    this.oldest ??= this.client.call<{ Table?: TableDescription }>('DescribeTable', { TableName: this.tableName }).then(({ Table: table }) => oldestListedMonth(table), () => OLDEST_MONTH);
    return this.oldest;
  }

  /** Up to `wanted` index entries under one key, newest first, inside `range`, optionally only of one type. */
  private async queryIndex(index: string, keyName: string, key: string, range: { lower?: string; upper?: string }, wanted: number, eventType?: string): Promise<Entry[]> {
    const names: Record<string, string> = { '#key': keyName };
    const values: Item = { ':key': { S: key } };
    let condition = '#key = :key';
    if (range.lower !== undefined || range.upper !== undefined) names['#order'] = 'listKey';
    if (range.lower !== undefined && range.upper !== undefined) {
      // BETWEEN is inclusive; the upper key is exclusive, so an entry equal to it is skipped below.
      condition += ' AND #order BETWEEN :lower AND :upper';
      Object.assign(values, { ':lower': { S: range.lower }, ':upper': { S: range.upper } });
    } else if (range.upper !== undefined) {
      condition += ' AND #order < :upper';
      values[':upper'] = { S: range.upper };
    } else if (range.lower !== undefined) {
      condition += ' AND #order >= :lower';
      values[':lower'] = { S: range.lower };
    }
    const input: Record<string, unknown> = { TableName: this.tableName, IndexName: index, KeyConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values, ScanIndexForward: false };
    if (eventType !== undefined) {
      input.FilterExpression = '#type = :type';
      names['#type'] = 'eventType';
      values[':type'] = { S: eventType };
    }
    // A cursor's own entry is the first one read again (BETWEEN is inclusive): ask for one more.
    const slack = range.lower !== undefined && range.upper !== undefined && decodeListKey(range.upper).id !== undefined ? 1 : 0;
    const entries: Entry[] = [];
    let start: Item | undefined;
    do {
      const page = await storeCall<QueryAnswer>(this.client, 'Query', { ...input, Limit: wanted - entries.length + slack, ExclusiveStartKey: start });
      for (const item of page.Items ?? []) {
        const id = item.id?.S;
        const order = item.listKey?.S;
        if (id !== undefined && order !== undefined && order !== range.upper) entries.push({ id, listKey: order });
      }
      start = page.LastEvaluatedKey;
    } while (start && entries.length < wanted);
    return entries.slice(0, wanted);
  }

  /** The records of `ids`, in that order. */
  private async batchGet(ids: string[]): Promise<EventRecord[]> {
    const items = await this.batchItems(ids);
    // An id the index listed but the table no longer holds (deleted by hand meanwhile) is left out.
    return Promise.all(ids.flatMap((id) => (items.has(id) ? [fromItem(items.get(id)!)] : [])));
  }

  /** The items of `ids` by id; BatchGetItem may leave keys unprocessed, so ask again for those. */
  private async batchItems(ids: string[]): Promise<Map<string, Item>> {
    const items = new Map<string, Item>();
    for (let offset = 0; offset < ids.length; offset += BATCH_GET_KEYS) {
      let keys: Item[] = ids.slice(offset, offset + BATCH_GET_KEYS).map((id) => ({ id: { S: id } }));
      while (keys.length > 0) {
        const page = await storeCall<BatchGetAnswer>(this.client, 'BatchGetItem', { RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } });
        for (const item of page.Responses?.[this.tableName] ?? []) if (item.id?.S !== undefined) items.set(item.id.S, item);
        keys = page.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return items;
  }
}

/**
 * The oldest month that can hold a record of `table`: every record's `receivedAt` is when it was
 * stored, so none is older than the table (less a day, for clocks that disagree). A table restored
 * from a backup holds records older than itself, and then it is {@link OLDEST_MONTH}.
 */
export function oldestListedMonth(table: TableDescription | undefined): string {
  const created = table?.CreationDateTime;
  if (!created || table.RestoreSummary) return OLDEST_MONTH;
  const month = receivedMonth(new Date(created * 1000 - CREATION_SLACK_MS).toISOString());
  return month > OLDEST_MONTH ? month : OLDEST_MONTH;
}

/**
 * The months a listing walks, newest first: from the month of `upper` (or of a month from now, for
 * a reader whose clock is behind the function's) back to the month `last`.
 */
export function monthsBack(upper: string | undefined, last: string): string[] {
  const first = upper !== undefined ? receivedMonth(upper) : receivedMonth(new Date(Date.now() + 31 * 86_400_000).toISOString());
  const months: string[] = [];
  let [year, month] = first.split('-').map(Number) as [number, number];
  for (let current = first; current >= last; current = `${year}-${String(month).padStart(2, '0')}`) {
    months.push(current);
    month -= 1;
    if (month === 0) [year, month] = [year - 1, 12];
  }
  return months;
}
