import type { EventRecord } from './events';
import { keepStateOf, stateId, type IsvState, type IsvStateStore, type StateOutcome, type SuiteTicketState } from './isv-state';
import { encodeListKey, keyRange, listLimit, newestFirst, pageOf, storedFilters, type EventPage, type EventQuery, type EventStore } from './listing';
import type { PutOutcome } from './store';

/** An {@link EventStore} in process memory: for tests, benchmarks and trying the core out. */
export class MemoryEventStore implements EventStore, IsvStateStore {
  private readonly records = new Map<string, EventRecord>();
  private readonly states = new Map<string, IsvState>();

  async put(record: EventRecord): Promise<PutOutcome> {
    const outcome = this.records.has(record.id) ? 'duplicate' : 'created';
    if (outcome === 'created') this.records.set(record.id, { ...record });
    await keepStateOf(record, (state) => this.putState(state));
    return outcome;
  }

  async putState(state: IsvState): Promise<StateOutcome> {
    const id = stateId(state);
    const stored = this.states.get(id);
    if (stored && stored.time >= state.time) return 'stale';
    this.states.set(id, { ...state });
    return 'updated';
  }

  async suiteTicket(suiteKey: string): Promise<SuiteTicketState | undefined> {
    const state = this.states.get(stateId({ kind: 'suite_ticket', suiteKey }));
    return state?.kind === 'suite_ticket' ? { ...state } : undefined;
  }

  async isvStates(): Promise<IsvState[]> {
    return [...this.states.values()].map((state) => ({ ...state }));
  }

  async get(id: string): Promise<EventRecord | undefined> {
    const record = this.records.get(id);
    return record && { ...record };
  }

  async list(query: EventQuery = {}): Promise<EventPage> {
    const { eventType, processInstanceId } = storedFilters(query);
    const { lower, upper } = keyRange(query);
    const matching = [...this.records.values()]
      .filter((record) => eventType === undefined || record.eventType === eventType)
      .filter((record) => processInstanceId === undefined || record.processInstanceId === processInstanceId)
      .filter((record) => (lower === undefined || encodeListKey(record) >= lower) && (upper === undefined || encodeListKey(record) < upper))
      .sort(newestFirst);
    const limit = listLimit(query);
    return pageOf(matching.slice(0, limit + 1).map((record) => ({ ...record })), limit);
  }
}
