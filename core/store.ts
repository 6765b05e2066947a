import type { EventRecord } from './events';

/** What a conditional insert answered: the record is new, or an equal id was already stored. */
export type PutOutcome = 'created' | 'duplicate';

/**
 * The write port, all a function needs of its store. `put` is one conditional insert keyed on the
 * record's identity: the record is its own idempotency marker. Implementations throw
 * {@link StoreError} (or anything, which the pipeline treats the same) when the store fails, and
 * answer `duplicate`, not an error, on a failed condition. Reading is for tools: see `listing.ts`.
 */
export interface EventWriter {
  put(record: EventRecord): Promise<PutOutcome>;
}
