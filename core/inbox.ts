/**
 * Where the recover pass keeps each failed-list reply between reading it and storing its items.
 * DingTalk deletes what `get_call_back_failed_result` returns, so a reply is made durable here
 * before any of its items is processed, and removed only once all of them are stored; a run that
 * stops halfway leaves it for the next run to finish (docs/recover.md).
 */

/** One reply kept in the inbox. */
export interface InboxEntry {
  /** Sorts in arrival order within its source. */
  id: string;
  /** The reply as DingTalk sent it. */
  body: string;
}

/** The inbox port; each cloud keeps it in a small table of its own beside the events table. */
export interface RecoverInbox {
  /**
   * Stores `body` durably under `source` (`app:<appKey>` or `suite:<suiteKey>`), answering its id.
   * @throws StoreError when it could not be stored: nothing may be processed then.
   */
  add(source: string, body: string): Promise<string>;
  /** The replies kept under `source`, oldest first. */
  pending(source: string): Promise<InboxEntry[]>;
  /** Forgets a reply whose items are all stored. */
  remove(source: string, id: string): Promise<void>;
}

let sequence = 0;

/** A fresh entry id: the time, so entries sort in arrival order, then a counter and randomness against ties. */
export function inboxEntryId(now: Date): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${now.toISOString()}#${String(sequence).padStart(6, '0')}#${Math.random().toString(36).slice(2, 10)}`;
}

/** An inbox in process memory, for the core's tests. */
export class MemoryInbox implements RecoverInbox {
  readonly entries = new Map<string, Map<string, string>>();

  async add(source: string, body: string): Promise<string> {
    const id = inboxEntryId(new Date());
    if (!this.entries.has(source)) this.entries.set(source, new Map());
    this.entries.get(source)!.set(id, body);
    return id;
  }

  async pending(source: string): Promise<InboxEntry[]> {
    return [...(this.entries.get(source) ?? new Map<string, string>())].sort(([a], [b]) => a.localeCompare(b)).map(([id, body]) => ({ id, body }));
  }

  async remove(source: string, id: string): Promise<void> {
    this.entries.get(source)?.delete(id);
  }
}
