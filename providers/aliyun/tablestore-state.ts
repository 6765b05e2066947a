import type TableStore from 'tablestore';
import { isStateId, stateId, STATE_ID_PREFIX, type IsvState } from '../../core/isv-state';
import type { RowPut } from './tablestore-put-client';

/**
 * The ISV state rows of the events table (docs/isv.md, "The suite's state"): keyed by their `#…`
 * id beside the records, the state as JSON text in `state`, its time in `stateTime` for the
 * write's condition. They carry none of the indexes' columns, so no listing meets them; a range
 * read of the table's `#` keys finds them all.
 */

/**
 * The write of a state: its row, on the condition that there is no row yet or one with an older
 * `stateTime`. Tablestore checks a column condition against the row as it stands, in the same
 * request: one write, newest wins.
 */
export function statePut(state: IsvState): Omit<RowPut, 'tableName'> {
  const time = BigInt(state.time);
  return { primaryKey: [['id', stateId(state)]], columns: [['state', JSON.stringify(state)], ['stateTime', time]], olderThan: { column: 'stateTime', value: time } };
}

/** The key range holding every state row: from the prefix up to the next character. */
export const STATE_RANGE = {
  start: STATE_ID_PREFIX,
  end: String.fromCharCode(STATE_ID_PREFIX.charCodeAt(0) + 1),
};

/** The state a row holds, or undefined for a row that is none. */
export function fromStateRow(row: TableStore.ReadRow): IsvState | undefined {
  const id = row.primaryKey?.find((cell) => cell.name === 'id')?.value;
  const text = row.attributes?.find((cell) => cell.columnName === 'state')?.columnValue;
  if (typeof id !== 'string' || !isStateId(id) || typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as IsvState;
  } catch {
    return undefined;
  }
}
