import { isStateId, stateId, type IsvState } from '../../core/isv-state';
import { encodeListKey } from '../../core/listing';
import type { Item } from './dynamodb-item';

/**
 * The ISV state items of the events table (docs/isv.md, "The suite's state"): keyed by their
 * `#…` id beside the records, the state as JSON text in `state`, its time in `stateTime` for the
 * write's condition. They carry no `receivedMonth`, so no listing of events meets them; the type
 * index holds them under {@link STATE_TYPE}, which is how the tools find them all.
 */

/** The `eventType` under which the type index holds every state item. */
export const STATE_TYPE = '#isv_state';

/** The item of a state. */
export function stateItem(state: IsvState): Item {
  const id = stateId(state);
  return {
    id: { S: id },
    eventType: { S: STATE_TYPE },
    listKey: { S: encodeListKey({ id, receivedAt: state.storedAt }) },
    state: { S: JSON.stringify(state) },
    stateTime: { N: String(state.time) },
  };
}

/** The condition of a state's write: no item yet, or an older one. */
export const NEWER_STATE = { ConditionExpression: 'attribute_not_exists(id) OR stateTime < :time' } as const;

/** The state an item holds, or undefined for an item that is none. */
export function fromStateItem(item: Item | undefined): IsvState | undefined {
  const id = item?.id?.S;
  const text = item?.state?.S;
  if (id === undefined || !isStateId(id) || text === undefined) return undefined;
  try {
    return JSON.parse(text) as IsvState;
  } catch {
    return undefined;
  }
}
