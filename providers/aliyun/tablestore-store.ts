import TableStore from 'tablestore';
import { StoreError } from '../../core/errors';
import { required, type Environment } from '../../core/settings';
import type { EventRecord } from '../../core/events';
import { listLimit, newestFirst, type EventQuery, type EventStore, type PutOutcome } from '../../core/store';

/** Where a Tablestore instance is and who calls it (an AccessKey pair, or STS keys with their token). */
export interface TablestoreClientOptions {
  /** For example `https://my-instance.cn-hangzhou.ots.aliyuncs.com`. */
  endpoint: string;
  instance: string;
  accessKeyId: string;
  secretAccessKey: string;
  securityToken?: string;
}

/** Where the function stores events, from `EVENTS_TABLE`, `TABLESTORE_ENDPOINT` and `TABLESTORE_INSTANCE`. */
export interface TablestoreLocation {
  tableName: string;
  endpoint: string;
  instance: string;
}

/** @throws ConfigError naming the first of the three variables that is not set. */
export function tablestoreLocation(env: Environment): TablestoreLocation {
  return { tableName: required(env, 'EVENTS_TABLE'), endpoint: required(env, 'TABLESTORE_ENDPOINT'), instance: required(env, 'TABLESTORE_INSTANCE') };
}

/**
 * Builds a `tablestore` client. Failed reads are retried twice at most (the SDK's default is 20,
 * up to 3 s apart, far beyond DingTalk's 1500 ms); the SDK keeps that number process-wide.
 */
export function createTablestoreClient(options: TablestoreClientOptions): TableStore.Client {
  return new TableStore.Client({
    endpoint: options.endpoint,
    instancename: options.instance,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    stsToken: options.securityToken,
    maxRetries: 2,
    httpOptions: { timeout: 5000 }, // the SDK has no timeout of its own
  });
}

const STRING = TableStore.DefinedColumnType.DCT_STRING;
/** Every record field but the key is a predefined column, so the indexes can carry whole records. */
const COLUMNS = [
  { name: 'eventType', type: STRING },
  { name: 'ownerKey', type: STRING },
  { name: 'corpId', type: STRING },
  { name: 'eventTime', type: TableStore.DefinedColumnType.DCT_INTEGER },
  { name: 'receivedAt', type: STRING },
  { name: 'processInstanceId', type: STRING },
  { name: 'payload', type: STRING },
];

/**
 * The global secondary indexes that answer {@link EventStore.list} newest first. Each index key ends
 * with `receivedAt` (then `eventId`, which Tablestore appends), so a backward range read is the answer.
 */
export function eventIndexes(tableName: string): TableStore.IndexMeta[] {
  const index = (suffix: string, primaryKey: string[]): TableStore.IndexMeta => ({
    name: `${tableName}_${suffix}`,
    primaryKey,
    definedColumn: COLUMNS.map((column) => column.name).filter((name) => !primaryKey.includes(name)),
    indexUpdateMode: TableStore.IndexUpdateMode.IUM_ASYNC_INDEX,
    indexType: TableStore.IndexType.IT_GLOBAL_INDEX,
  });
  return [index('by_type', ['eventType', 'receivedAt']), index('by_instance', ['processInstanceId', 'receivedAt']), index('by_time', ['receivedAt'])];
}

/**
 * Creates the events table and its indexes where missing; run on every deploy. An existing table
 * keeps its data: missing indexes are added and built from it. A table with another key or
 * without the predefined columns is left alone and reported, since fixing it would lose data.
 * @returns what was done.
 */
export async function ensureEventTable(client: TableStore.Client, tableName: string): Promise<'created' | 'updated' | 'unchanged'> {
  const { tableNames } = await client.listTable({});
  if (!tableNames.includes(tableName)) {
    try {
      await client.createTable({
        tableMeta: { tableName, primaryKey: [{ name: 'eventId', type: TableStore.PrimaryKeyType.STRING }], definedColumn: COLUMNS },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        // Secondary indexes need one version and no expiry.
        tableOptions: { timeToLive: -1, maxVersions: 1 },
        indexMetas: eventIndexes(tableName),
      });
      return 'created';
    } catch (error) {
      if (otsCode(error) !== 'OTSObjectAlreadyExist') throw error; // created meanwhile: check it below
    }
  }
  const { tableMeta, indexMetas } = await client.describeTable({ tableName });
  const key = tableMeta.primaryKey.map((column) => `${column.name}:${column.type}`).join(',');
  if (key !== `eventId:${TableStore.PrimaryKeyType.STRING}`) throw new Error(`Tablestore table ${tableName} exists with another primary key than eventId (STRING)`);
  const missing = COLUMNS.filter((column) => !(tableMeta.definedColumn ?? []).some((defined) => defined.name === column.name && defined.type === column.type));
  if (missing.length > 0) {
    throw new Error(`Tablestore table ${tableName} lacks the predefined columns ${missing.map((column) => column.name).join(', ')}; add them in the console, then deploy again`);
  }
  let changed = false;
  for (const indexMeta of eventIndexes(tableName)) {
    if ((indexMetas ?? []).some((existing) => existing.name === indexMeta.name)) continue;
    await client.createIndex({ mainTableName: tableName, indexMeta, includeBaseData: true });
    changed = true;
  }
  return changed ? 'updated' : 'unchanged';
}

/**
 * The Tablestore {@link EventStore}: one row per event keyed by `eventId`, written with one
 * `PutRow` expecting the row not to exist; lists read the covering indexes of {@link eventIndexes}.
 */
export class TablestoreEventStore implements EventStore {
  private readonly tableName: string;
  private readonly client: TableStore.Client;

  constructor(options: { tableName: string; client: TableStore.Client }) {
    this.tableName = options.tableName;
    this.client = options.client;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    const { eventId, eventTime, ...columns } = record;
    const attributeColumns: TableStore.AttributeInput = Object.entries(columns)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => ({ [name]: value }));
    if (eventTime !== undefined) attributeColumns.push({ eventTime: TableStore.Long.fromNumber(eventTime) });
    try {
      await this.client.putRow({
        tableName: this.tableName,
        condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        primaryKey: [{ eventId }],
        attributeColumns,
      });
      return 'created';
    } catch (error) {
      if (otsCode(error) === 'OTSConditionCheckFail') return 'duplicate';
      throw storeError('PutRow', error);
    }
  }

  async get(eventId: string): Promise<EventRecord | undefined> {
    const { row } = await this.client.getRow({ tableName: this.tableName, primaryKey: [{ eventId }], maxVersions: 1 }).catch((error: unknown) => {
      throw storeError('GetRow', error);
    });
    return row.primaryKey ? toRecord(row) : undefined;
  }

  async list(query: EventQuery = {}): Promise<EventRecord[]> {
    const limit = listLimit(query);
    const [byType, byInstance, byTime] = eventIndexes(this.tableName).map((index) => index.name);
    const [tableName, prefix]: [string, TableStore.PrimaryKeyInput] =
      query.processInstanceId !== undefined ? [byInstance!, [{ processInstanceId: query.processInstanceId }]]
      : query.eventType !== undefined ? [byType!, [{ eventType: query.eventType }]]
      : [byTime!, []];
    const bound = (edge: TableStore.Bound): TableStore.PrimaryKeyInput => [...prefix, { receivedAt: edge }, { eventId: edge }];
    const end = bound(TableStore.INF_MIN);
    const records: EventRecord[] = [];
    let start: TableStore.PrimaryKeyInput | undefined = bound(TableStore.INF_MAX);
    // Read past the limit until receivedAt changes, so ties sort by id exactly as every store does.
    while (start) {
      const page: Awaited<ReturnType<TableStore.Client['getRange']>> = await this.client
        .getRange({ tableName, direction: TableStore.Direction.BACKWARD, inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: end, limit: limit + 1, maxVersions: 1 })
        .catch((error: unknown) => {
          throw storeError('GetRange', error);
        });
      for (const row of page.rows) {
        const record = toRecord(row);
        if (query.eventType === undefined || record.eventType === query.eventType) records.push(record);
      }
      const last = records[limit - 1];
      const settled = last !== undefined && records.length > limit && records.at(-1)!.receivedAt !== last.receivedAt;
      start = settled ? undefined : page.nextStartPrimaryKey?.map(({ name, value }) => ({ [name]: value }));
    }
    return records.sort(newestFirst).slice(0, limit);
  }
}

/** A row of the table or of an index, back into a record; absent columns stay absent. */
function toRecord(row: TableStore.ReadRow): EventRecord {
  const cells = new Map<string, TableStore.CellValue>();
  for (const { name, value } of row.primaryKey ?? []) cells.set(name, value);
  for (const { columnName, columnValue } of row.attributes ?? []) cells.set(columnName, columnValue);
  const text = (name: string) => {
    const value = cells.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const required = (name: string) => {
    const value = text(name);
    if (value === undefined) throw new StoreError(`a stored event lacks its ${name}`);
    return value;
  };
  const record: EventRecord = { eventId: required('eventId'), eventType: required('eventType'), ownerKey: required('ownerKey'), receivedAt: required('receivedAt'), payload: required('payload') };
  const corpId = text('corpId');
  if (corpId !== undefined) record.corpId = corpId;
  const eventTime = cells.get('eventTime');
  if (eventTime !== undefined) record.eventTime = typeof eventTime === 'object' && 'toNumber' in eventTime ? eventTime.toNumber() : Number(eventTime);
  const processInstanceId = text('processInstanceId');
  if (processInstanceId !== undefined) record.processInstanceId = processInstanceId;
  return record;
}

/**
 * The Tablestore error code of a failure (`OTSConditionCheckFail`, `OTSServerBusy`…). The SDK does
 * not decode the protobuf error body; it leaves its bytes in the message, where the code is plain ASCII.
 */
export function otsCode(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const found = typeof message === 'string' ? /\bOTS[A-Za-z]+/.exec(message) : null;
  return found?.[0] ?? (code === undefined ? undefined : String(code));
}

function storeError(operation: string, cause: unknown): StoreError {
  return new StoreError(`Tablestore ${operation} failed (${otsCode(cause) ?? 'unknown error'})`, { cause });
}
