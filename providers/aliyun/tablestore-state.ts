import TableStore from 'tablestore';
import { isStateId, stateId, STATE_ID_PREFIX, type IsvState } from '../../core/isv-state';

/**
 * The ISV state rows of the events table (docs/isv.md, "The suite's state"): keyed by their `#…`
 * id beside the records, the state as JSON text in `state`, its time in `stateTime` for the
 * write's condition. They carry none of the indexes' columns, so no listing meets them; a range
 * read of the table's `#` keys finds them all.
 */

/** The row of a state. */
export function stateRow(state: IsvState): { primaryKey: TableStore.PrimaryKeyInput; attributeColumns: TableStore.AttributeInput } {
  return { primaryKey: [{ id: stateId(state) }], attributeColumns: [{ state: JSON.stringify(state) }, { stateTime: TableStore.Long.fromNumber(state.time) }] };
}

/**
 * The condition of a state's write: no row yet, or one with an older `stateTime`. Tablestore checks
 * a column condition against the row as it stands, in the same request: one write, newest wins.
 */
export function newerState(state: IsvState): TableStore.Condition {
  const older = new TableStore.SingleColumnCondition('stateTime', TableStore.Long.fromNumber(state.time), TableStore.ComparatorType.LESS_THAN, true);
  return new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, older);
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
