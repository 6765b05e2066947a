import TableStore from 'tablestore';
import { StoreError } from '../../core/errors';
import type { EventRecord } from '../../core/events';

/** A row of the table or of an index, back into a record; absent columns stay absent. */
export function fromRow(row: TableStore.ReadRow): EventRecord {
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
  const source = text('source');
  if (source === 'push' || source === 'recovered') record.source = source;
  const corpId = text('corpId');
  if (corpId !== undefined) record.corpId = corpId;
  const eventTime = cells.get('eventTime');
  if (eventTime !== undefined) record.eventTime = typeof eventTime === 'object' && 'toNumber' in eventTime ? eventTime.toNumber() : Number(eventTime);
  const processInstanceId = text('processInstanceId');
  if (processInstanceId !== undefined) record.processInstanceId = processInstanceId;
  return record;
}

