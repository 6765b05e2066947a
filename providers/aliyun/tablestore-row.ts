import TableStore from 'tablestore';
import { headersText, storedRecord, type EventRecord } from '../../core/events';

/** The row of a record: its `id` the primary key, every other field an attribute column, absent ones left out. */
export function toRow(record: EventRecord): { primaryKey: TableStore.PrimaryKeyInput; attributeColumns: TableStore.AttributeInput } {
  const { id, eventTime, headers, ...columns } = record;
  const attributeColumns: TableStore.AttributeInput = Object.entries({ ...columns, headers: headers && headersText(headers) })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ({ [name]: value }));
  if (eventTime !== undefined) attributeColumns.push({ eventTime: TableStore.Long.fromNumber(eventTime) });
  return { primaryKey: [{ id }], attributeColumns };
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
