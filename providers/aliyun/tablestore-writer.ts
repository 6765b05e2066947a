import { UnstorableEventError } from '../../core/errors';
import type { EventRecord } from '../../core/events';
import { keepStateOf, type IsvState, type StateOutcome } from '../../core/isv-state';
import { PUT_DEADLINE_MS, type EventWriter, type PutOutcome } from '../../core/store';
import { otsCode, storeError } from './tablestore-errors';
import type { RowPut, TablestorePutClient } from './tablestore-put-client';
import { toRow } from './tablestore-row';
import { statePut } from './tablestore-state';

/** The table and a client for it. */
export interface TablestoreEventWriterOptions {
  tableName: string;
  client: TablestorePutClient;
  /** Default {@link PUT_DEADLINE_MS}. */
  putDeadlineMs?: number;
}

/**
 * The function's side of the Tablestore store: one row per event keyed by its `id`, one `PutRow`
 * expecting the row not to exist; for a ticket or an authorisation a second one keeping the ISV state.
 * It writes through the small PutRow client, never the SDK (`tablestore-put-client.ts`).
 */
export class TablestoreEventWriter implements EventWriter {
  readonly tableName: string;
  private readonly putClient: TablestorePutClient;
  private readonly putDeadlineMs: number;

  constructor({ tableName, client, putDeadlineMs = PUT_DEADLINE_MS }: TablestoreEventWriterOptions) {
    this.tableName = tableName;
    this.putClient = client;
    this.putDeadlineMs = putDeadlineMs;
  }

  async put(record: EventRecord): Promise<PutOutcome> {
    const outcome = await this.putRow({ ...toRow(record), expect: 'notExist' });
    // A duplicate too: the earlier delivery may have stored the record and failed here.
    await keepStateOf(record, (state) => this.putState(state));
    return outcome === 'written' ? 'created' : 'duplicate';
  }

  async putState(state: IsvState): Promise<StateOutcome> {
    return (await this.putRow(statePut(state))) === 'written' ? 'updated' : 'stale';
  }

  /**
   * One conditional `PutRow`, ended at the put deadline, its retries included (a request that was
   * sent may still land; the condition makes a late write harmless); a failed condition is an answer.
   */
  private async putRow(put: Omit<RowPut, 'tableName'>): Promise<'written' | 'refused'> {
    const deadline = AbortSignal.timeout(this.putDeadlineMs);
    try {
      await this.putClient.putRow({ tableName: this.tableName, ...put }, deadline);
      return 'written';
    } catch (failure) {
      const error = deadline.aborted ? Object.assign(new Error(`no answer within ${this.putDeadlineMs} ms`), { code: 'PutDeadlineExceeded' }) : failure;
      const code = otsCode(error);
      if (code === 'OTSConditionCheckFail') return 'refused';
      // Refused as invalid: the same row would be refused on every retry, so not a 503.
      if (code === 'OTSParameterInvalid' || code === 'OTSInvalidPK') throw new UnstorableEventError(`Tablestore refused the event's row (PutRow: ${code})`, { cause: error });
      throw storeError('PutRow', error);
    }
  }
}
