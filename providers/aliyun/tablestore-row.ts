import type TableStore from 'tablestore';
import { headersText, storedRecord, type EventRecord } from '../../core/events';
import type { PutValue, RowPut } from './tablestore-put-client';

/** The row of a record: its `id` the primary key, every other field an attribute column, absent ones left out. */
export function toRow(record: EventRecord): Pick<RowPut, 'primaryKey' | 'columns'> {
  const { id, eventTime, headers, ...fields } = record;
  const columns: Array<[string, PutValue]> = Object.entries({ ...fields, headers: headers && headersText(headers) }).filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (eventTime !== undefined) columns.push(['eventTime', BigInt(eventTime)]);
  return { primaryKey: [['id', id]], columns };
}

/** A row of the table or of an index, back into a record; absent columns stay absent. @throws StoreError for a row that is no record. */
export function fromRow(row: TableStore.ReadRow): EventRecord {
  const cells = new Map<string, TableStore.CellValue>();
  for (const { name, value } of row.primaryKey ?? []) cells.set(name, value);
  for (const { columnName, columnValue } of row.attributes ?? []) cells.set(columnName, columnValue);
  const eventTime = cells.get('eventTime');
  return storedRecord(
    (name) => {
      const value = cells.get(name);
      return typeof value === 'string' ? value : undefined;
    },
    { eventTime: eventTime === undefined ? undefined : typeof eventTime === 'object' && 'toNumber' in eventTime ? eventTime.toNumber() : Number(eventTime) },
    'Tablestore row',
  );
}
