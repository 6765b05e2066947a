import type { DeadLetterEntry, ForwardLog, Replay } from '../core/forward';

/** What became of an event's onward delivery, as far as this `npm start` saw it. */
export interface DeliveryState {
  /**
   * `pending`: stored, not yet handed to the forward function; `delivered`: handed, and no sink
   * dead-lettered it; `dead_lettered`: a sink refused every attempt; `failed`: the forward function
   * itself failed on its batch every time, and the stream gave up on it.
   */
  state: 'pending' | 'delivered' | 'dead_lettered' | 'failed';
  /** Who delivered last: the forward function off the stream, or a re-delivery from the page. */
  by: 'stream' | 'redeliver';
  /** ISO-8601 UTC, when the state was reached. */
  at: string;
  /** Attempts at the sink that failed, or at the last sink, where known. */
  attempts?: number;
  /** The sink a dead letter names. */
  sink?: string;
  /** Why it failed: short, and never a payload or a secret (core/forward.ts's reasons). */
  lastError?: string;
}

/** How many events' states are kept: the newest, the oldest forgotten first. */
const KEPT = 10_000;

/**
 * The onward delivery of each event `npm start` has seen: the local stream says which records it
 * handed to the forward function and which batches it gave up on, the dead-letter queue which
 * records a sink refused (read back from its file at start, so those outlive a restart), and the
 * page's re-deliveries say their own outcome.
 */
export class DeliveryBook {
  private readonly states = new Map<string, DeliveryState>();
  private readonly listeners = new Set<(id: string) => void>();

  /** Calls `listener` with the id of each change from now on; answers the call that stops it. */
  listen(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The state of `id`, if this run (or a dead letter) says anything of it. */
  of(id: string): DeliveryState | undefined {
    return this.states.get(id);
  }

  /** A new record went into the stream. */
  queued(id: string): void {
    this.set(id, { state: 'pending', by: 'stream', at: now() });
  }

  /** The stream handled a batch: the forward function took `taken` (delivered, unless a dead letter came meanwhile), the stream gave up on `gaveUpOn`. */
  handled(taken: readonly string[], gaveUpOn: readonly string[]): void {
    for (const id of taken) {
      const state = this.states.get(id);
      if (state?.state !== 'dead_lettered' || state.by !== 'stream') this.set(id, { state: 'delivered', by: 'stream', at: now() });
    }
    for (const id of gaveUpOn) this.set(id, { state: 'failed', by: 'stream', at: now(), lastError: 'the forward function failed on every invocation; see the dead letters' });
  }

  /** A sink refused `entry.id` after every attempt (the forward function's dead letter). */
  deadLettered(entry: Pick<DeadLetterEntry, 'id' | 'sink' | 'reason' | 'attempts' | 'failedAt'>): void {
    this.set(entry.id, { state: 'dead_lettered', by: 'stream', at: entry.failedAt, attempts: entry.attempts, sink: entry.sink, lastError: entry.reason });
  }

  /** A re-delivery of `id` from the page ended: its replay, and the log lines it wrote. */
  redelivered(id: string, result: Replay, lines: readonly ForwardLog[]): void {
    const failure = result.failures[0];
    if (failure) {
      this.set(id, { state: 'dead_lettered', by: 'redeliver', at: failure.failedAt, attempts: failure.attempts, sink: failure.sink, lastError: failure.reason });
      return;
    }
    this.set(id, { state: 'delivered', by: 'redeliver', at: now(), ...(lines.at(-1)?.attempts !== undefined && { attempts: lines.at(-1)!.attempts }) });
  }

  private set(id: string, state: DeliveryState): void {
    this.states.delete(id);
    this.states.set(id, state);
    if (this.states.size > KEPT) this.states.delete(this.states.keys().next().value!);
    for (const listener of this.listeners) listener(id);
  }
}

/** The dead letters of a dead-letter file (one JSON message a line), for {@link DeliveryBook.deadLettered}; other lines are skipped. */
export function deadLettersIn(text: string): DeadLetterEntry[] {
  const entries: DeadLetterEntry[] = [];
  for (const line of text.split('\n')) {
    try {
      const message = JSON.parse(line) as Partial<DeadLetterEntry> & { kind?: string };
      if (message.kind === 'dingtalk-forward-dead-letter' && typeof message.id === 'string') entries.push(message as DeadLetterEntry);
    } catch {
      // a blank line, or one cut short
    }
  }
  return entries;
}

function now(): string {
  return new Date().toISOString();
}
