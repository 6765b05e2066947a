import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './ports';
import TableStore from 'tablestore';
import protocol from 'tablestore/lib/protocol/tablestore_compiled_proto.js';

/**
 * A local Tablestore for tests. It speaks the service's wire protocol (POST /<Operation>, protobuf
 * bodies, PlainBuffer rows, the `x-ots-*` signature headers) so the real `tablestore` SDK talks to it
 * unchanged, and implements only what this project uses, as Tablestore documents it: CreateTable,
 * CreateIndex, DescribeTable, UpdateTable (the Stream only), ListTable, PutRow (row-existence conditions, and one
 * single-column condition on an integer or string column), GetRow, DeleteRow, GetRange on tables
 * and global secondary indexes. Index tables are updated synchronously, one of the orders the
 * service's asynchronous indexes allow.
 */

/** An AccessKey pair (and STS token) the server accepts. */
export interface TablestoreCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  securityToken?: string;
}

/** An error the server answers every matching request with, to simulate an outage. */
export interface TablestoreFailure {
  /** HTTP status (default 503). */
  status?: number;
  /** Tablestore error code (default `OTSServerBusy`). */
  code?: string;
  message?: string;
  /** Only these operations fail (for example `['PutRow']`); default all. */
  operations?: string[];
  /** Only requests naming these tables fail; default any. */
  tables?: string[];
}

export interface TablestoreServerOptions {
  instance?: string;
  credentials?: TablestoreCredentials[];
}

/** A running server; stop it with {@link LocalTablestore.close}. */
export interface LocalTablestore {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly instance: string;
  /** The first accepted credentials. */
  readonly credentials: TablestoreCredentials;
  /** Everything a client needs: `{ endpoint, instance, accessKeyId, secretAccessKey }`. */
  readonly clientOptions: { endpoint: string; instance: string } & TablestoreCredentials;
  /** From now on, answer matching requests with this error (an `OTSServerBusy` 503 by default). */
  failWith(failure?: TablestoreFailure): void;
  /**
   * From now on, accept matching requests (every operation by default, or only these, for example
   * `['PutRow']`) and never answer them, as a store behind a network partition does.
   */
  hang(operations?: string[]): void;
  /** Stop failing and hanging; the connections a hang holds are dropped. */
  recover(): void;
  /** How many requests each operation received, signed or not. */
  readonly requests: Map<string, number>;
  /** How many rows the reads (GetRow, GetRange, BatchGetRow) have returned so far, from tables and indexes alike. */
  rowsRead(): number;
  close(): Promise<void>;
}

/** The fixed test credentials the server accepts when none are given. */
export const TEST_CREDENTIALS: TablestoreCredentials = { accessKeyId: 'LTAI-local-test', secretAccessKey: 'local-test-secret' };

const pb = protocol.main.proto;
const filters = protocol.filter.proto;
const consts = TableStore.plainBufferConsts;
const MAX_COLUMN_BYTES = 2 * 1024 * 1024;
const MAX_PK_STRING_BYTES = 1024;
const MAX_RANGE_ROWS = 5000;
const MAX_RANGE_BYTES = 4 * 1024 * 1024;
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const SIGNED_HEADERS = ['x-ots-date', 'x-ots-apiversion', 'x-ots-accesskeyid', 'x-ots-instancename', 'x-ots-contentmd5', 'x-ots-signature'];
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const PK_TYPES: Record<number, string> = { 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' };
const DEFINED_TYPES: Record<number, string> = { 1: 'INTEGER', 2: 'DOUBLE', 3: 'BOOLEAN', 4: 'STRING' };

type Value = TableStore.CellValue;
type KeyValue = Value | TableStore.Bound;
interface Cell { value: Value; timestamp: number }
interface Row { key: Value[]; cells: Map<string, Cell> }
interface Rows { keyColumns: string[]; rows: Map<string, Row> }
interface IndexMeta { name: string; primaryKey: string[]; definedColumn: string[]; indexUpdateMode: number; indexType: number }
interface Index extends Rows { meta: IndexMeta }
interface Table extends Rows {
  name: string;
  primaryKey: Array<{ name: string; type: number }>;
  definedColumn: Array<{ name: string; type: number }>;
  timeToLive: number;
  maxVersions: number;
  allowUpdate: boolean;
  createdAt: number;
  indexes: Index[];
  /** The table's Stream, once UpdateTable enabled it. */
  stream?: { enableStream: boolean; streamId?: string; expirationTime?: number; lastEnableTime?: number };
}

/** A failure answered as Tablestore does: HTTP status plus a protobuf `Error{code, message}`. */
class OtsError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const invalid = (message: string) => new OtsError(400, 'OTSParameterInvalid', message);
const missingTable = () => new OtsError(404, 'OTSObjectNotExist', 'Requested table does not exist.');

/** Starts a local Tablestore on 127.0.0.1 and a free port. */
export async function startTablestoreServer(options: TablestoreServerOptions = {}): Promise<LocalTablestore> {
  const instance = options.instance ?? 'local-instance';
  const accepted = options.credentials ?? [TEST_CREDENTIALS];
  const first = accepted[0];
  if (!first) throw new Error('give the server at least one set of credentials');
  const tables = new Map<string, Table>();
  const requests = new Map<string, number>();
  let rowsRead = 0;
  const read = (rows: number) => void (rowsRead += rows);
  let failure: { status: number; code: string; message: string; operations?: string[]; tables?: string[] } | undefined;
  let hanging: { operations?: string[] } | undefined;
  const held = new Set<ServerResponse>();

  const operations: Record<string, (request: never) => object> = {
    ListTable: () => ({ tableNames: [...tables.keys()].sort() }),
    CreateTable: (request: CreateTableRequest) => createTable(tables, request),
    CreateIndex: (request: CreateIndexRequest) => createIndex(table(tables, request.mainTableName), request),
    DescribeTable: (request: { tableName: string }) => describeTable(table(tables, request.tableName)),
    UpdateTable: (request: UpdateTableRequest) => updateTable(table(tables, request.tableName), request),
    PutRow: (request: PutRowRequest) => putRow(table(tables, request.tableName), request),
    BatchWriteRow: (request: BatchWriteRowRequest) => batchWriteRow(tables, request),
    GetRow: (request: GetRowRequest) => getRow(table(tables, request.tableName), request, read),
    DeleteRow: (request: DeleteRowRequest) => deleteRow(table(tables, request.tableName), request),
    GetRange: (request: GetRangeRequest) => getRange(readable(tables, request.tableName), request, read),
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = (req.url ?? '/').slice(1).split('?')[0] ?? '';
      requests.set(operation, (requests.get(operation) ?? 0) + 1);
      if (hanging && (!hanging.operations || hanging.operations.includes(operation))) {
        held.add(res);
        return;
      }
      try {
        if (req.method !== 'POST') throw new OtsError(405, 'OTSMethodNotAllowed', 'Only POST method for requests is supported.');
        authenticate(req, body, `/${operation}`, instance, accepted);
        const run = operations[operation];
        if (!run) throw invalid(`Unsupported operation: '${operation}'.`);
        const failing = failure && (!failure.operations || failure.operations.includes(operation));
        if (failing && !failure!.tables) throw new OtsError(failure!.status, failure!.code, failure!.message);
        let message: unknown;
        try {
          message = pb[`${operation}Request`]!.decode(body);
        } catch {
          throw invalid('Failed to parse the ProtoBuf message.');
        }
        if (failing && failure!.tables!.includes((message as { tableName?: string }).tableName ?? '')) throw new OtsError(failure!.status, failure!.code, failure!.message);
        const response = pb[`${operation}Response`]!;
        reply(res, 200, response.encode(response.create(run(message as never))).finish());
      } catch (error) {
        const failed = error instanceof OtsError ? error : new OtsError(500, 'OTSInternalServerError', 'Internal server error.');
        reply(res, failed.status, pb.Error!.encode({ code: failed.code, message: failed.message }).finish());
      }
    });
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    instance,
    credentials: first,
    clientOptions: { endpoint, instance, ...first },
    requests,
    rowsRead: () => rowsRead,
    failWith: (options = {}) => {
      failure = { status: options.status ?? 503, code: options.code ?? 'OTSServerBusy', message: options.message ?? 'Server is busy.', operations: options.operations, tables: options.tables };
    },
    hang: (operations) => {
      hanging = { operations };
    },
    recover: () => {
      failure = undefined;
      hanging = undefined;
      for (const res of held) res.destroy();
      held.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Checks a request's headers, signature and body digest the way Tablestore does. */
function authenticate(req: IncomingMessage, body: Buffer, path: string, instance: string, accepted: TablestoreCredentials[]): void {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  for (const name of SIGNED_HEADERS) {
    if (!header(name)) throw invalid(`Missing header: '${name}'.`);
  }
  if (header('x-ots-apiversion') !== '2015-12-31') throw invalid(`Unsupported API version: '${header('x-ots-apiversion')}'.`);
  const date = Date.parse(header('x-ots-date')!);
  if (Number.isNaN(date)) throw invalid(`Invalid date format: '${header('x-ots-date')}'.`);
  const credentials = accepted.find((candidate) => candidate.accessKeyId === header('x-ots-accesskeyid'));
  if (!credentials) throw new OtsError(403, 'OTSAuthFailed', 'The AccessKeyID does not exist.');
  if (credentials.securityToken !== undefined && header('x-ots-ststoken') !== credentials.securityToken) {
    throw new OtsError(403, 'OTSAuthFailed', 'The security token is invalid.');
  }
  const canonical = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-ots-') && name !== 'x-ots-signature')
    .sort()
    .map((name) => `${name}:${header(name)}`)
    .join('\n');
  const expected = createHmac('sha1', credentials.secretAccessKey).update(`${path}\nPOST\n\n${canonical}\n`).digest();
  const given = Buffer.from(header('x-ots-signature')!, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new OtsError(403, 'OTSAuthFailed', 'Signature mismatch.');
  if (header('x-ots-instancename') !== instance) throw new OtsError(403, 'OTSAuthFailed', 'The instance is not found.');
  if (createHash('md5').update(body).digest('base64') !== header('x-ots-contentmd5')) {
    throw new OtsError(403, 'OTSAuthFailed', 'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');
  }
  if (Math.abs(Date.now() - date) > MAX_CLOCK_SKEW_MS) throw new OtsError(403, 'OTSAuthFailed', `Mismatch between system time and x-ots-date: ${header('x-ots-date')}.`);
}

function reply(res: ServerResponse, status: number, body: Uint8Array): void {
  res.writeHead(status, {
    'content-type': 'application/x-protobuf',
    'content-length': body.length,
    'x-ots-contenttype': 'protocol buffer',
    'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
    'x-ots-date': new Date().toISOString(),
    'x-ots-requestid': randomUUID(),
  });
  res.end(body);
}

// ----- tables and indexes -----

interface CreateTableRequest {
  tableMeta: { tableName: string; primaryKey: Array<{ name: string; type: number; option?: number }>; definedColumn: Array<{ name: string; type: number }> };
  tableOptions?: { timeToLive?: number; maxVersions?: number; allowUpdate?: boolean };
  indexMetas: IndexMeta[];
}
interface CreateIndexRequest { mainTableName: string; indexMeta: IndexMeta; includeBaseData?: boolean }

function table(tables: Map<string, Table>, name: string): Table {
  const found = tables.get(name);
  if (!found) throw missingTable();
  return found;
}

/** A table or an index table, for reads. */
function readable(tables: Map<string, Table>, name: string): Rows {
  const found = tables.get(name) ?? [...tables.values()].flatMap((candidate) => candidate.indexes).find((index) => index.meta.name === name);
  if (!found) throw missingTable();
  return found;
}

function createTable(tables: Map<string, Table>, request: CreateTableRequest): object {
  const { tableName, primaryKey, definedColumn } = request.tableMeta;
  if (!TABLE_NAME.test(tableName)) throw invalid(`Invalid table name: '${tableName}'.`);
  const names = [...tables.values()].flatMap((existing) => [existing.name, ...existing.indexes.map((index) => index.meta.name)]);
  if (names.includes(tableName)) throw new OtsError(409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
  if (primaryKey.length < 1 || primaryKey.length > 4) throw invalid('The number of primary key columns must be in range: [1, 4].');
  for (const column of primaryKey) {
    if (!PK_TYPES[column.type]) throw invalid(`Invalid type of primary key column '${column.name}'.`);
    if (set(column, 'option') !== undefined) throw invalid('Auto-increment primary keys are not supported by this test server.');
  }
  for (const column of definedColumn) {
    if (!DEFINED_TYPES[column.type]) throw invalid(`Invalid type of defined column '${column.name}'.`);
    if (primaryKey.some((key) => key.name === column.name)) throw invalid(`Defined column '${column.name}' is also a primary key column.`);
  }
  const created: Table = {
    name: tableName,
    primaryKey: primaryKey.map(({ name, type }) => ({ name, type })),
    definedColumn: definedColumn.map(({ name, type }) => ({ name, type })),
    timeToLive: set(request.tableOptions, 'timeToLive') ?? -1,
    maxVersions: set(request.tableOptions, 'maxVersions') ?? 1,
    allowUpdate: set(request.tableOptions, 'allowUpdate') ?? true,
    createdAt: Date.now(),
    keyColumns: primaryKey.map((column) => column.name),
    rows: new Map(),
    indexes: [],
  };
  for (const meta of request.indexMetas) addIndex(created, meta, names);
  tables.set(tableName, created);
  return {};
}

function createIndex(main: Table, request: CreateIndexRequest): object {
  addIndex(main, request.indexMeta, [main.name, ...main.indexes.map((index) => index.meta.name)]);
  const index = main.indexes.at(-1)!;
  if (set(request, 'includeBaseData')) for (const row of main.rows.values()) writeIndex(main, index, row);
  return {};
}

/** Adds a global secondary index after the checks Tablestore documents for one. */
function addIndex(main: Table, meta: IndexMeta, takenNames: string[]): void {
  if (!TABLE_NAME.test(meta.name)) throw invalid(`Invalid index name: '${meta.name}'.`);
  if (takenNames.includes(meta.name) || main.indexes.some((index) => index.meta.name === meta.name)) {
    throw new OtsError(409, 'OTSObjectAlreadyExist', `Requested index '${meta.name}' already exists.`);
  }
  if (meta.indexType !== TableStore.IndexType.IT_GLOBAL_INDEX) throw invalid('Only global secondary indexes are supported by this test server.');
  if (main.maxVersions !== 1) throw invalid('Tables with secondary indexes must have max versions 1.');
  if (main.timeToLive !== -1 && main.allowUpdate) {
    throw invalid('Tables with secondary indexes must keep data forever (time to live -1) or disallow updates.');
  }
  if (meta.primaryKey.length === 0) throw invalid('An index needs at least one primary key column.');
  for (const name of meta.primaryKey) {
    const defined = main.definedColumn.find((column) => column.name === name);
    if (!main.keyColumns.includes(name) && !defined) throw invalid(`Index primary key column '${name}' is neither a primary key nor a defined column of '${main.name}'.`);
    if (defined && defined.type !== TableStore.DefinedColumnType.DCT_STRING && defined.type !== TableStore.DefinedColumnType.DCT_INTEGER) {
      throw invalid(`Index primary key column '${name}' must be a STRING or INTEGER column.`);
    }
  }
  for (const name of meta.definedColumn) {
    if (!main.definedColumn.some((column) => column.name === name)) throw invalid(`Index column '${name}' is not a defined column of '${main.name}'.`);
    if (meta.primaryKey.includes(name)) throw invalid(`Index column '${name}' is also in the index primary key.`);
  }
  // The index key is the index columns followed by the main table's key columns not already in it.
  const keyColumns = [...meta.primaryKey, ...main.keyColumns.filter((name) => !meta.primaryKey.includes(name))];
  main.indexes.push({ meta: { ...meta }, keyColumns, rows: new Map() });
}

function describeTable(found: Table): object {
  return {
    tableMeta: { tableName: found.name, primaryKey: found.primaryKey, definedColumn: found.definedColumn },
    reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: Math.floor(found.createdAt / 1000) },
    tableOptions: { timeToLive: found.timeToLive, maxVersions: found.maxVersions, deviationCellVersionInSec: 86400 },
    tableStatus: 1,
    indexMetas: found.indexes.map((index) => ({ ...index.meta, indexSyncPhase: 2 })),
    streamDetails: found.stream ?? { enableStream: false },
  };
}

interface UpdateTableRequest { tableName: string; streamSpec?: { enableStream: boolean; expirationTime?: number } }

/** Only the Stream can be changed here: enabling it gives the table a stream id, as the service does. */
function updateTable(found: Table, request: UpdateTableRequest): object {
  const spec = request.streamSpec;
  if (spec) {
    if (spec.enableStream && !(spec.expirationTime && spec.expirationTime >= 1 && spec.expirationTime <= 168)) throw invalid('The expiration time of a stream must be 1 to 168 hours.');
    found.stream = spec.enableStream
      ? { enableStream: true, streamId: found.stream?.streamId ?? randomUUID(), expirationTime: spec.expirationTime, lastEnableTime: Date.now() * 1000 }
      : { enableStream: false };
  }
  return {
    reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: Math.floor(found.createdAt / 1000) },
    tableOptions: { timeToLive: found.timeToLive, maxVersions: found.maxVersions },
    streamDetails: found.stream ?? { enableStream: false },
  };
}

// ----- rows -----

interface PutRowRequest { tableName: string; row: Buffer; condition: { rowExistence: number; columnCondition?: Buffer } }
interface GetRowRequest { tableName: string; primaryKey: Buffer; columnsToGet: string[]; maxVersions?: number; filter?: Buffer }
interface GetRangeRequest extends Omit<GetRowRequest, 'primaryKey'> {
  direction: number;
  limit?: number;
  inclusiveStartPrimaryKey: Buffer;
  exclusiveEndPrimaryKey: Buffer;
}

function putRow(found: Table, request: PutRowRequest): object {
  const decoded = readPlainBuffer(request.row);
  const key = checkKey(found, decoded.primaryKey ?? []);
  const now = Date.now();
  const cells = new Map<string, Cell>();
  for (const attribute of decoded.attributes ?? []) {
    const { columnName, columnValue } = attribute;
    if (columnValue === null || columnValue === undefined) throw invalid(`Attribute column '${columnName}' has no value.`);
    if (found.keyColumns.includes(columnName)) throw invalid(`Attribute column '${columnName}' has the name of a primary key column.`);
    const size = valueSize(columnValue);
    if (size > MAX_COLUMN_BYTES) {
      throw invalid(`The length of attribute column: '${columnName}' exceeds the MaxLength:${MAX_COLUMN_BYTES} with CurrentLength:${size}.`);
    }
    const defined = found.definedColumn.find((column) => column.name === columnName);
    if (defined && definedType(columnValue) !== defined.type) throw invalid(`The type of column '${columnName}' does not match its defined type ${DEFINED_TYPES[defined.type]}.`);
    cells.set(columnName, { value: columnValue, timestamp: attribute.timestamp ? attribute.timestamp.toNumber() : now });
  }
  // An index column is an index table's primary-key column: a string of at most 1 KB, as on the main table.
  for (const index of found.indexes) {
    for (const name of index.meta.primaryKey) {
      const value = cells.get(name)?.value;
      if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > MAX_PK_STRING_BYTES) {
        throw invalid(`The length of index column: '${name}' of index '${index.meta.name}' exceeds the MaxLength:${MAX_PK_STRING_BYTES}.`);
      }
    }
  }
  const id = keyId(key);
  const existing = found.rows.get(id);
  const { rowExistence } = request.condition;
  if ((rowExistence === TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST && existing) || (rowExistence === TableStore.RowExistenceExpectation.EXPECT_EXIST && !existing)) {
    throw new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
  }
  if (!columnConditionHolds(set(request.condition, 'columnCondition'), existing)) throw new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
  // PutRow replaces the whole row, then the indexes follow it.
  const row: Row = { key, cells };
  for (const index of found.indexes) {
    if (existing) index.rows.delete(indexKeyId(found, index, existing) ?? '');
    writeIndex(found, index, row);
  }
  found.rows.set(id, row);
  return { consumed: capacity(0, units(rowSize(found.keyColumns, row))), row: Buffer.alloc(0) };
}

/**
 * Whether the row as stored passes a PutRow's column condition: only a single-column condition on
 * an integer or a string column (what this project writes), checked as Tablestore documents it. A
 * row, or a column, that is missing passes only when the condition says so (`filterIfMissing` false);
 * values of different types never compare.
 */
function columnConditionHolds(bytes: Buffer | undefined, existing: Row | undefined): boolean {
  if (!bytes?.length) return true;
  const filter = filters.Filter.decode(bytes) as unknown as { type: number; filter: Buffer };
  if (filter.type !== filters.FilterType.FT_SINGLE_COLUMN_VALUE) throw invalid('Only single-column conditions are supported by this test server.');
  const single = filters.SingleColumnValueFilter.decode(filter.filter) as unknown as { comparator: number; columnName: string; columnValue: Buffer; filterIfMissing: boolean };
  const wanted = conditionValue(Buffer.from(single.columnValue));
  const stored = existing?.cells.get(single.columnName)?.value;
  if (stored === undefined) return !single.filterIfMissing;
  const have = isInteger(stored) ? BigInt(stored.toString()) : typeof stored === 'string' ? stored : undefined;
  if (have === undefined || typeof have !== typeof wanted) return false;
  const order = typeof have === 'string' ? Buffer.compare(Buffer.from(have), Buffer.from(wanted as string)) : have < (wanted as bigint) ? -1 : have > (wanted as bigint) ? 1 : 0;
  const comparators = filters.ComparatorType;
  switch (single.comparator) {
    case comparators.CT_EQUAL: return order === 0;
    case comparators.CT_NOT_EQUAL: return order !== 0;
    case comparators.CT_GREATER_THAN: return order > 0;
    case comparators.CT_GREATER_EQUAL: return order >= 0;
    case comparators.CT_LESS_THAN: return order < 0;
    case comparators.CT_LESS_EQUAL: return order <= 0;
    default: throw invalid(`Unknown comparator ${single.comparator}.`);
  }
}

/** A condition's value, PlainBuffer-encoded without a length: a type byte, then an int64 or a length-prefixed string. */
function conditionValue(bytes: Buffer): bigint | string {
  const type = bytes[0];
  if (type === consts.VT_INTEGER) return bytes.readBigInt64LE(1);
  if (type === consts.VT_STRING) return bytes.subarray(5, 5 + bytes.readUInt32LE(1)).toString('utf8');
  throw invalid('Only integer and string condition values are supported by this test server.');
}

interface DeleteRowRequest { tableName: string; primaryKey: Buffer; condition: { rowExistence: number; columnCondition?: Buffer } }

function deleteRow(found: Table, request: DeleteRowRequest): object {
  if (set(request.condition, 'columnCondition')?.length) throw invalid('Column conditions are not supported by this test server.');
  const key = checkKey(found, readPlainBuffer(request.primaryKey).primaryKey ?? []);
  const id = keyId(key);
  const existing = found.rows.get(id);
  const { rowExistence } = request.condition;
  if ((rowExistence === TableStore.RowExistenceExpectation.EXPECT_EXIST && !existing) || (rowExistence === TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST && existing)) {
    throw new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
  }
  if (existing) {
    for (const index of found.indexes) index.rows.delete(indexKeyId(found, index, existing) ?? '');
    found.rows.delete(id);
  }
  return { consumed: capacity(0, 1), row: Buffer.alloc(0) };
}

/** `OperationType.PUT` of the protocol. */
const PUT = 1;
/** Tablestore's most rows in one BatchWriteRow. */
const MAX_BATCH_WRITE_ROWS = 200;

interface BatchWriteRowRequest { tables: Array<{ tableName: string; rows: Array<{ type: number; rowChange: Buffer; condition: PutRowRequest['condition'] }> }> }

/** Each row on its own, as Tablestore does: one row failing fails that row alone. Puts only. */
function batchWriteRow(tables: Map<string, Table>, request: BatchWriteRowRequest): object {
  if (request.tables.reduce((sum, entry) => sum + entry.rows.length, 0) > MAX_BATCH_WRITE_ROWS) throw invalid(`Rows count exceeds the upper limit: ${MAX_BATCH_WRITE_ROWS}.`);
  return {
    tables: request.tables.map(({ tableName, rows }) => ({
      tableName,
      rows: rows.map(({ type, rowChange, condition }) => {
        try {
          if (type !== PUT) throw invalid('Only puts are supported in a batch by this test server.');
          const { consumed } = putRow(table(tables, tableName), { tableName, row: rowChange, condition }) as { consumed: unknown };
          return { isOk: true, consumed };
        } catch (error) {
          const failed = error instanceof OtsError ? error : new OtsError(500, 'OTSInternalServerError', 'Internal server error.');
          return { isOk: false, error: { code: failed.code, message: failed.message } };
        }
      }),
    })),
  };
}

function getRow(found: Table, request: GetRowRequest, read: (rows: number) => void): object {
  if (set(request, 'filter')?.length) throw invalid('Filters are not supported by this test server.');
  const key = checkKey(found, readPlainBuffer(request.primaryKey).primaryKey ?? []);
  const row = found.rows.get(keyId(key));
  if (!row) return { consumed: capacity(1, 0), row: Buffer.alloc(0) };
  const bytes = encodeRow(found.keyColumns, row, request.columnsToGet);
  read(1);
  return { consumed: capacity(units(bytes.length), 0), row: bytes };
}

function getRange(found: Rows, request: GetRangeRequest, read: (rows: number) => void): object {
  if (set(request, 'filter')?.length) throw invalid('Filters are not supported by this test server.');
  const start = rangeKey(found, request.inclusiveStartPrimaryKey);
  const end = rangeKey(found, request.exclusiveEndPrimaryKey);
  const backward = request.direction === 1;
  const order = compareKeys(start, end);
  if (!backward && order >= 0) throw invalid('Begin key must less than end key in FORWARD.');
  if (backward && order <= 0) throw invalid('Begin key must more than end key in BACKWARD.');
  const limit = set(request, 'limit') ?? MAX_RANGE_ROWS;
  if (limit <= 0) throw invalid('The limit must be greater than 0.');
  const inRange = [...found.rows.values()]
    .filter((row) => (backward ? compareKeys(row.key, start) <= 0 && compareKeys(row.key, end) > 0 : compareKeys(row.key, start) >= 0 && compareKeys(row.key, end) < 0))
    .sort((a, b) => (backward ? compareKeys(b.key, a.key) : compareKeys(a.key, b.key)));
  const encoded: Buffer[] = [];
  let bytes = 0;
  for (const row of inRange) {
    if (encoded.length === Math.min(limit, MAX_RANGE_ROWS)) break;
    const next = encodeRow(found.keyColumns, row, request.columnsToGet);
    if (encoded.length > 0 && bytes + next.length > MAX_RANGE_BYTES) break;
    encoded.push(encoded.length === 0 ? next : next.subarray(4));
    bytes += next.length;
  }
  const following = inRange[encoded.length];
  read(encoded.length);
  return {
    consumed: capacity(Math.max(1, units(bytes)), 0),
    rows: Buffer.concat(encoded),
    nextStartPrimaryKey: following ? TableStore.PlainBufferBuilder.serializePrimaryKey(keyInput(found.keyColumns, following.key)) : undefined,
  };
}

function writeIndex(main: Table, index: Index, row: Row): void {
  const id = indexKeyId(main, index, row);
  if (id === undefined) return; // a row lacking an index key column is not in the index
  const key = index.keyColumns.map((name) => columnOf(main, row, name)!);
  const cells = new Map([...row.cells].filter(([name]) => index.meta.definedColumn.includes(name)));
  index.rows.set(id, { key, cells });
}

function indexKeyId(main: Table, index: Index, row: Row): string | undefined {
  const key = index.keyColumns.map((name) => columnOf(main, row, name));
  return key.every((value) => value !== undefined) ? keyId(key as Value[]) : undefined;
}

function columnOf(main: Table, row: Row, name: string): Value | undefined {
  const position = main.keyColumns.indexOf(name);
  return position >= 0 ? row.key[position] : row.cells.get(name)?.value;
}

/** The primary key of a row write or point read, checked against the schema. */
function checkKey(found: Table, primaryKey: Array<{ name: string; value: KeyValue }>): Value[] {
  if (primaryKey.length !== found.primaryKey.length || primaryKey.some((column, i) => column.name !== found.primaryKey[i]!.name)) {
    throw new OtsError(400, 'OTSInvalidPK', 'Validate PK name fail.');
  }
  return primaryKey.map((column, i) => {
    const type = found.primaryKey[i]!.type;
    if (primaryKeyType(column.value) !== type) throw new OtsError(400, 'OTSInvalidPK', `Validate PK type fail. Input: ${typeof column.value}, Meta: ${PK_TYPES[type]}.`);
    if (typeof column.value === 'string' && Buffer.byteLength(column.value) > MAX_PK_STRING_BYTES) {
      throw invalid(`The length of primary key column: '${column.name}' exceeds the MaxLength:${MAX_PK_STRING_BYTES}.`);
    }
    return column.value as Value;
  });
}

/** A range bound: every key column named in order, values or INF_MIN / INF_MAX. */
function rangeKey(found: Rows, bytes: Buffer): KeyValue[] {
  const primaryKey = readPlainBuffer(bytes).primaryKey ?? [];
  if (primaryKey.length !== found.keyColumns.length || primaryKey.some((column, i) => column.name !== found.keyColumns[i])) {
    throw new OtsError(400, 'OTSInvalidPK', 'Validate PK name fail.');
  }
  return primaryKey.map((column) => column.value);
}

// ----- PlainBuffer and values -----

/** An optional protobuf field when the message sets it (decoded messages inherit defaults for the others). */
function set<T extends object, K extends keyof T>(message: T | null | undefined, field: K): T[K] | undefined {
  return message && Object.prototype.hasOwnProperty.call(message, field) ? message[field] : undefined;
}

/** Decodes a PlainBuffer row with the SDK's own reader, taught the INF_MIN / INF_MAX of range bounds. */
function readPlainBuffer(bytes: Buffer): TableStore.ReadRow {
  const buffer = Buffer.from(bytes);
  const input = new TableStore.PlainBufferInputStream({ buffer, offset: 0, limit: buffer.length });
  const coded = new TableStore.PlainBufferCodedInputStream(input);
  const readValue = coded.readPrimaryKeyValue.bind(coded);
  coded.readPrimaryKeyValue = (checksum) => {
    const type = input.buffer[input.curPos + 4]; // after the 4-byte length comes the value type
    if (type !== consts.VT_INF_MIN && type !== consts.VT_INF_MAX) return readValue(checksum);
    input.readRawLittleEndian32();
    input.readRawByte();
    coded.readTag();
    return { pkVal: type === consts.VT_INF_MIN ? TableStore.INF_MIN : TableStore.INF_MAX, cellCheckSum: TableStore.plainBufferCrc8.crcInt8(checksum, type) };
  };
  try {
    return coded.readRow();
  } catch (error) {
    throw invalid(`Invalid PlainBuffer row: ${(error as Error).message}`);
  }
}

function encodeRow(keyColumns: string[], row: Row, columnsToGet: string[] = []): Buffer {
  const attributes = [...row.cells]
    .filter(([name]) => columnsToGet.length === 0 || columnsToGet.includes(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, cell]) => ({ [name]: cell.value, timestamp: cell.timestamp }));
  return TableStore.PlainBufferBuilder.serializeForPutRow(keyInput(keyColumns, row.key), attributes);
}

function keyInput(keyColumns: string[], key: KeyValue[]): TableStore.PrimaryKeyInput {
  return keyColumns.map((name, i) => ({ [name]: key[i]! }));
}

const isInteger = (value: unknown): value is { toString(): string } =>
  typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && typeof (value as { toNumber?: unknown }).toNumber === 'function';

function primaryKeyType(value: KeyValue): number | undefined {
  if (typeof value === 'string') return TableStore.PrimaryKeyType.STRING;
  if (Buffer.isBuffer(value)) return TableStore.PrimaryKeyType.BINARY;
  return isInteger(value) ? TableStore.PrimaryKeyType.INTEGER : undefined;
}

function definedType(value: Value): number {
  if (typeof value === 'string') return TableStore.DefinedColumnType.DCT_STRING;
  if (typeof value === 'number') return TableStore.DefinedColumnType.DCT_DOUBLE;
  if (typeof value === 'boolean') return TableStore.DefinedColumnType.DCT_BOOLEAN;
  return isInteger(value) ? TableStore.DefinedColumnType.DCT_INTEGER : 0;
}

function valueSize(value: Value): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return value.length;
  return typeof value === 'boolean' ? 1 : 8;
}

function rowSize(keyColumns: string[], row: Row): number {
  let size = row.key.reduce<number>((sum, value, i) => sum + keyColumns[i]!.length + valueSize(value), 0);
  for (const [name, cell] of row.cells) size += name.length + valueSize(cell.value);
  return size;
}

const units = (bytes: number) => Math.ceil(bytes / 4096);
const capacity = (read: number, write: number) => ({ capacityUnit: { read, write } });

/** Compares keys column by column: INF_MIN < any value < INF_MAX; strings and binaries bytewise, integers numerically. */
function compareKeys(a: KeyValue[], b: KeyValue[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const order = compareValues(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return 0;
}

function compareValues(a: KeyValue, b: KeyValue): number {
  const rank = (value: KeyValue) => (value === TableStore.INF_MIN ? -1 : value === TableStore.INF_MAX ? 1 : 0);
  if (rank(a) !== 0 || rank(b) !== 0) return rank(a) - rank(b);
  if (isInteger(a) && isInteger(b)) {
    const [x, y] = [BigInt(a.toString()), BigInt(b.toString())];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return Buffer.compare(Buffer.from(a as string | Buffer), Buffer.from(b as string | Buffer));
}

function keyId(key: Value[]): string {
  return JSON.stringify(key.map((value) => (typeof value === 'string' ? ['s', value] : Buffer.isBuffer(value) ? ['b', value.toString('base64')] : ['i', String(value)])));
}
