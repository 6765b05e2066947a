import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { sleep } from '../../core/sleep';

/**
 * Tablestore's PutRow over HTTP(S), the one call the functions write with, without the `tablestore`
 * SDK: loading and running the SDK cost the Alibaba callback ~25 ms of CPU at every cold start
 * (docs/performance.md). It speaks the wire format the SDK does (test/aliyun/tablestore-put-client.test.ts
 * compares the bytes): a protobuf `PutRowRequest` holding the row in PlainBuffer, and the `x-ots-*`
 * headers signed with HMAC-SHA1. The reads, the inbox and the deploy's tables keep the SDK
 * (`tablestore-client.ts`), which the callback and stream bundles then never run.
 */

/** A cell the functions write: text, or a 64-bit integer (Tablestore's INTEGER). */
export type PutValue = string | bigint;

/** One `PutRow`. */
export interface RowPut {
  tableName: string;
  /** The primary key's columns, in the table's order. */
  primaryKey: Array<[name: string, value: string]>;
  columns: Array<[name: string, value: PutValue]>;
  /** `notExist`: refuse the write when the row exists. Default: write either way. */
  expect?: 'notExist';
  /** Write only when the row lacks this integer column or holds less than `value` in it. */
  olderThan?: { column: string; value: bigint };
}

/** Where a Tablestore instance is and who calls it (an AccessKey pair, or STS keys with their token). */
export interface TablestoreClientOptions {
  /** For example `https://my-instance.cn-hangzhou.ots.aliyuncs.com`. */
  endpoint: string;
  instance: string;
  accessKeyId: string;
  secretAccessKey: string;
  securityToken?: string;
}

/** A failed PutRow: Tablestore's error code (`OTSConditionCheckFail`, `OTSServerBusy`…), or the connection's. */
export class TablestorePutError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TablestorePutError';
  }
}

/**
 * The codes Tablestore asks to retry whatever the operation, as the SDK's default policy retries
 * them (a write is retried on nothing else: it may have landed); the throttling ones back off longer.
 */
const RETRIED = new Set(['OTSRowOperationConflict', 'OTSNotEnoughCapacityUnit', 'OTSTableNotReady', 'OTSPartitionUnavailable', 'OTSServerBusy', 'OTSOperationThrottled']);
const THROTTLING = new Set(['OTSServerBusy', 'OTSNotEnoughCapacityUnit', 'OTSOperationThrottled']);
/** Retries after the first attempt, as `createTablestoreClient` sets the SDK's. */
const MAX_RETRIES = 2;

/** A PutRow client for one instance and one set of keys; `signal` bounds a put, its retries included. */
export class TablestorePutClient {
  private readonly url: URL;
  private readonly agent: HttpAgent;

  constructor(private readonly options: TablestoreClientOptions) {
    this.url = new URL('/PutRow', options.endpoint);
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /**
   * Writes the row. @throws TablestorePutError with Tablestore's code (`OTSConditionCheckFail` when
   * a condition failed), or the signal's reason once it aborts.
   */
  async putRow(put: RowPut, signal?: AbortSignal): Promise<void> {
    const body = putRowRequest(put);
    for (let retries = 0; ; retries++) {
      try {
        return await this.send(body, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const { code } = error as TablestorePutError;
        if (!(error instanceof TablestorePutError) || !RETRIED.has(code) || retries >= MAX_RETRIES) throw error;
        const limit = Math.min(3000, (THROTTLING.has(code) ? 500 : 200) * 2 ** retries);
        await sleep(limit * (0.5 + 0.5 * Math.random()), signal);
      }
    }
  }

  /** Closes the idle keep-alive connections (tests; a Function Compute instance simply freezes). */
  destroy(): void {
    this.agent.destroy();
  }

  private send(body: Buffer, signal: AbortSignal | undefined): Promise<void> {
    const headers = signedHeaders(this.options, this.url.pathname, body);
    const requestOf = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const outgoing = requestOf(this.url, { method: 'POST', headers: { ...headers, 'content-length': body.length }, agent: this.agent, signal }, (answer) => {
        readAll(answer).then((reply) => {
          const status = answer.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          const { code = `HTTP${status}`, message = '' } = errorReply(reply);
          reject(new TablestorePutError(code, `Tablestore PutRow failed: ${code} (HTTP ${status}) ${message}`.trim(), status));
        }, reject);
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => reject(new TablestorePutError(error.code ?? 'NetworkError', error.message, undefined, { cause: error })));
      outgoing.end(body);
    });
  }
}

function readAll(answer: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.on('end', () => resolve(Buffer.concat(chunks)));
    answer.on('error', reject);
  });
}

/** The `x-ots-*` headers of a request to `path` with `body`, signed as Tablestore checks them. */
export function signedHeaders(keys: TablestoreClientOptions, path: string, body: Buffer, date = new Date()): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ots-apiversion': '2015-12-31',
    'x-ots-instancename': keys.instance,
    'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
    'x-ots-date': date.toISOString(),
    'x-ots-accesskeyid': keys.accessKeyId,
    ...(keys.securityToken && { 'x-ots-ststoken': keys.securityToken }),
  };
  const canonical = Object.keys(headers)
    .sort()
    .map((name) => `${name}:${headers[name]}`)
    .join('\n');
  headers['x-ots-signature'] = createHmac('sha1', keys.secretAccessKey).update(`${path}\nPOST\n\n${canonical}\n`).digest('base64');
  return headers;
}

// ----- protobuf: the few messages of a PutRow (tablestore.proto, tablestore_filter.proto) -----

const ROW_EXISTENCE = { IGNORE: 0, EXPECT_NOT_EXIST: 2 };
const FT_SINGLE_COLUMN_VALUE = 1;
const CT_LESS_THAN = 5;

/** The body of a PutRow: `PutRowRequest{table_name, row, condition{row_existence, column_condition}}`. */
export function putRowRequest(put: RowPut): Buffer {
  const condition = [varintField(1, put.expect === 'notExist' ? ROW_EXISTENCE.EXPECT_NOT_EXIST : ROW_EXISTENCE.IGNORE)];
  if (put.olderThan) {
    const single = Buffer.concat([
      varintField(1, CT_LESS_THAN),
      bytesField(2, Buffer.from(put.olderThan.column)),
      bytesField(3, variant(put.olderThan.value)),
      // filter_if_missing false: a row, or a column, that is missing passes.
      varintField(4, 0),
      varintField(5, 1),
    ]);
    condition.push(bytesField(2, Buffer.concat([varintField(1, FT_SINGLE_COLUMN_VALUE), bytesField(2, single)])));
  }
  return Buffer.concat([bytesField(1, Buffer.from(put.tableName)), bytesField(2, plainBufferRow(put)), bytesField(3, Buffer.concat(condition))]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  for (; value > 0x7f; value = Math.floor(value / 128)) bytes.push((value & 0x7f) | 0x80);
  bytes.push(value);
  return Buffer.from(bytes);
}
const varintField = (field: number, value: number) => Buffer.concat([varint(field << 3), varint(value)]);
const bytesField = (field: number, bytes: Buffer) => Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);

/** The `message` of Tablestore's protobuf `Error{code, message}` reply; empty for a reply that is none. */
function errorReply(bytes: Buffer): { code?: string; message?: string } {
  const fields: Record<number, string> = {};
  try {
    for (let at = 0; at < bytes.length; ) {
      const [key, afterKey] = readVarint(bytes, at);
      if ((key & 7) !== 2) return {};
      const [length, start] = readVarint(bytes, afterKey);
      fields[key >> 3] = bytes.subarray(start, start + length).toString('utf8');
      at = start + length;
    }
  } catch {
    return {};
  }
  return { code: fields[1], message: fields[2] };
}

function readVarint(bytes: Buffer, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    if (at >= bytes.length || shift > 28) throw new RangeError('truncated varint');
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
}

// ----- PlainBuffer: the row's own encoding, each cell and the row with a CRC-8 -----

const HEADER = 0x75;
const TAG = { ROW_PK: 0x1, ROW_DATA: 0x2, CELL: 0x3, CELL_NAME: 0x4, CELL_VALUE: 0x5, ROW_CHECKSUM: 0x9, CELL_CHECKSUM: 0x0a };
const VT_INTEGER = 0x0;
const VT_STRING = 0x3;

/** The row of a PutRow: header, primary-key cells, attribute cells, the row's checksum. */
export function plainBufferRow({ primaryKey, columns }: Pick<RowPut, 'primaryKey' | 'columns'>): Buffer {
  const parts: Buffer[] = [u32(HEADER), Buffer.of(TAG.ROW_PK)];
  let rowCrc = 0;
  const cell = (name: string, value: PutValue) => {
    const nameBytes = Buffer.from(name);
    const typed = variant(value);
    const cellCrc = crc8(crc8(0, nameBytes), typed);
    parts.push(Buffer.of(TAG.CELL, TAG.CELL_NAME), u32(nameBytes.length), nameBytes, Buffer.of(TAG.CELL_VALUE), u32(typed.length), typed, Buffer.of(TAG.CELL_CHECKSUM, cellCrc));
    rowCrc = crc8(rowCrc, Buffer.of(cellCrc));
  };
  for (const [name, value] of primaryKey) cell(name, value);
  if (columns.length > 0) parts.push(Buffer.of(TAG.ROW_DATA));
  for (const [name, value] of columns) cell(name, value);
  // No delete marker: a 0 joins the checksum.
  parts.push(Buffer.of(TAG.ROW_CHECKSUM, crc8(rowCrc, Buffer.of(0))));
  return Buffer.concat(parts);
}

/** A value with its type: `VT_STRING` + length + UTF-8, or `VT_INTEGER` + int64 little-endian. */
function variant(value: PutValue): Buffer {
  if (typeof value === 'bigint') {
    const bytes = Buffer.alloc(9);
    bytes[0] = VT_INTEGER;
    bytes.writeBigInt64LE(value, 1);
    return bytes;
  }
  const text = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.of(VT_STRING), u32(text.length), text]);
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
}

/** CRC-8 with polynomial 0x07, as PlainBuffer checksums cells and rows. */
const CRC8_TABLE = Uint8Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  return crc;
});

function crc8(crc: number, bytes: Buffer): number {
  for (const byte of bytes) crc = CRC8_TABLE[(crc ^ byte) & 0xff]!;
  return crc;
}
