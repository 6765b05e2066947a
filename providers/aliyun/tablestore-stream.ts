import type TableStore from 'tablestore';
import type { EventRecord } from '../../core/events';
import { isStateId } from '../../core/isv-state';
import { fromRow } from './tablestore-row';

/** A column of a Tablestore Stream record as the FC trigger encodes it (CBOR, `Sync-v1`). */
interface StreamColumn {
  ColumnName: string;
  Value?: unknown;
  /** `Put`, `DeleteOneVersion` or `DeleteAllVersions` for attribute columns. */
  Type?: string;
  Timestamp?: number | bigint;
}

/** One changed row: `Type` is `PutRow`, `UpdateRow` or `DeleteRow`. */
export interface TablestoreStreamRecord {
  Type: string;
  Info?: { Timestamp?: number | bigint };
  PrimaryKey: StreamColumn[];
  Columns?: StreamColumn[];
}

/** The event a Tablestore trigger invokes a function with, once decoded from CBOR. */
export interface TablestoreTriggerEvent {
  Version: string;
  Records: TablestoreStreamRecord[];
}

/** One stream record decoded: the event record of a new row, or why there is none. */
export type DecodedRow = { record: EventRecord } | { skipped: string };

/**
 * Decodes a Tablestore trigger's CBOR event (`{Version: "Sync-v1", Records: [...]}`) and each new
 * row through the store's own row codec. Anything but a `PutRow` (the writer only ever puts new
 * rows), an ISV state row, or a row that is no event record, is `skipped` with the reason: no retry
 * could change it.
 * @throws TypeError for an event that is not a Tablestore trigger event at all.
 */
export async function decodeTriggerEvent(event: Uint8Array): Promise<DecodedRow[]> {
  // cborg is an ES module; the bundle inlines it, tsx and node load it on first use.
  const { decode } = await import('cborg');
  let decoded: unknown;
  try {
    decoded = decode(event, { useMaps: false });
  } catch (error) {
    throw new TypeError(`not a Tablestore trigger event: the CBOR does not decode (${(error as Error).message})`);
  }
  const { Version, Records } = (decoded ?? {}) as Partial<TablestoreTriggerEvent>;
  if (typeof Version !== 'string' || !Array.isArray(Records)) throw new TypeError('not a Tablestore trigger event: no Version and Records');
  return Records.map((streamRecord): DecodedRow => {
    if (streamRecord?.Type !== 'PutRow') return { skipped: `${String(streamRecord?.Type)} is no new row` };
    if (streamRecord.PrimaryKey?.some(({ ColumnName, Value }) => ColumnName === 'id' && typeof Value === 'string' && isStateId(Value))) return { skipped: 'an ISV state row, not an event' };
    try {
      return { record: fromRow(readRowOf(streamRecord)) };
    } catch (error) {
      return { skipped: (error as Error).message };
    }
  });
}

/** The SDK's row of a stream record, for the row codec: its key, and the columns it put. */
function readRowOf(streamRecord: TablestoreStreamRecord): TableStore.ReadRow {
  const cell = (value: unknown) => (typeof value === 'bigint' ? Number(value) : value) as TableStore.CellValue;
  return {
    primaryKey: streamRecord.PrimaryKey.map(({ ColumnName, Value }) => ({ name: ColumnName, value: cell(Value) })),
    attributes: (streamRecord.Columns ?? []).filter((column) => column.Type === undefined || column.Type === 'Put').map(({ ColumnName, Value }) => ({ columnName: ColumnName, columnValue: cell(Value) })),
  } as TableStore.ReadRow;
}
