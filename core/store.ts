import type { EventRecord } from './events';

/** What a conditional insert answered: the record is new, or an equal id was already stored. */
export type PutOutcome = 'created' | 'duplicate';

/**
 * The write port, all a function needs of its store. `put` is one conditional insert keyed on the
 * record's identity, settled within the writer's put deadline: the record is its own idempotency
 * marker. Implementations throw {@link StoreError} (or anything, which the pipeline treats the same)
 * when the store fails or the deadline passes, and answer `duplicate`, not an error, on a failed
 * condition. A record that says an ISV suite's state (a ticket, an authorisation) also has that
 * state written after it, one conditional write more (`keepStateOf`, core/isv-state.ts). Reading is
 * for tools: see `listing.ts`.
 */
export interface EventWriter {
  put(record: EventRecord): Promise<PutOutcome>;
}

/**
 * How long a function's put may take, the store client's retries and backoff included, before it fails
 * with a {@link StoreError} (answered 503, so DingTalk retries). DingTalk waits 2.5 s for the
 * answer (1.5 s for a legacy callback, `core/deadlines.ts`); left alone, the SDKs retry a throttled put for seconds and wait for a hung connection far
 * longer, so the answer would come too late to tell DingTalk anything. Both clouds' writers keep it,
 * and each cloud's settings may change it (`DYNAMODB_PUT_DEADLINE_MS`, `TABLESTORE_PUT_DEADLINE_MS`).
 * A put cut short may still have been written: DingTalk's retry is then a duplicate, stored once.
 */
export const PUT_DEADLINE_MS = 1000;

/**
 * The same for puts with no DingTalk waiting on them (the CLI, `recover`): long enough for a slow
 * link, short enough that a hung store fails the run rather than stalling it.
 */
export const TOOLS_PUT_DEADLINE_MS = 10_000;
