import type { EventRecord } from './events';
import { HANDSHAKES } from './events';
import { recordJson } from './json-text';
import { jsonLine } from './log';
import { webhookIdOf } from './webhook';

/** A record as every consumer reads it: each field present, in one order, `null` where its source has none. */
export type EnvelopeData = Omit<EventRecord, 'eventId' | 'corpId' | 'eventTime' | 'processInstanceId' | 'headers'> & {
  eventId: string | null;
  corpId: string | null;
  eventTime: number | null;
  processInstanceId: string | null;
  headers: Record<string, string> | null;
};

/**
 * The record a delivery carries, the same fields whatever its source (a push, a recovered item, a
 * Stream event, a SyncHTTP row; docs/forward.md): a consumer reads `eventId`, `corpId`,
 * `eventTime`, `processInstanceId` and `headers` alike, `null` where the source gave none, and
 * `payload` as DingTalk sent it.
 */
export function envelopeData(record: EventRecord): EnvelopeData {
  return {
    id: record.id,
    source: record.source,
    eventType: record.eventType,
    eventId: record.eventId ?? null,
    ownerKey: record.ownerKey,
    corpId: record.corpId ?? null,
    eventTime: record.eventTime ?? null,
    receivedAt: record.receivedAt,
    processInstanceId: record.processInstanceId ?? null,
    headers: record.headers ?? null,
    payload: record.payload,
  };
}

/**
 * What a delivery carries, as the JSON text a sink sends: Standard Webhooks' recommended
 * `{type, timestamp, data}`, that is the event type, the time DingTalk's push was first received,
 * and the record ({@link envelopeData}) with its payload as JSON rather than as text holding JSON.
 * The payload is re-emitted from the stored text rather than parsed and printed again, so an
 * integer beyond 2^53 arrives exact.
 */
export function envelopeJson(record: EventRecord): string {
  return `{"type":${JSON.stringify(record.eventType)},"timestamp":${JSON.stringify(record.receivedAt)},"data":${recordJson(envelopeData(record), 0)}}`;
}

/** A delivery that did not succeed. `reason` is short and quotes neither a payload nor a secret. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    readonly reason: string,
    /** False when trying again cannot help (a record too large for the sink): dead-lettered at once. */
    readonly retryable = true,
  ) {
    super(reason);
  }
}

/** Where records go: a webhook, an event bus. `deliver` resolves once the sink has the record. */
export interface Sink {
  /** For logs and dead letters: `webhook`, `eventbridge`. */
  readonly name: string;
  /** @throws DeliveryError (anything else is treated the same, with its name as the reason). */
  deliver(record: EventRecord): Promise<void>;
}

/** What is kept of a record a sink would not take after every retry: enough to find and replay it. */
export interface DeadLetterEntry {
  /** The record's identity: `events get` and a replay find it by this. */
  id: string;
  ownerKey: string;
  eventType: string;
  receivedAt: string;
  webhookId: string;
  sink: string;
  reason: string;
  attempts: number;
  /** ISO-8601 UTC. */
  failedAt: string;
}

/** Where dead letters go: an SQS queue on AWS, a Tablestore table on Alibaba Cloud, a file under `npm start`. */
export interface DeadLetter {
  /** @throws anything when the entry could not be kept: the stream then retries the record. */
  put(entry: DeadLetterEntry): Promise<void>;
}

/** How often and how patiently a sink is tried for one record. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait before the second attempt; it doubles after each failure, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

/**
 * Four attempts, 1, 2 and 4 s apart: with a webhook's 5 s timeout, at most ~27 s for a record, well
 * inside either cloud's function timeout, before the record is dead-lettered.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, firstDelayMs: 1000, maxDelayMs: 8000 };

/** What became of a record. */
export type ForwardOutcome = 'delivered' | 'skipped' | 'dead_lettered';

/** One log line per record and sink; never a payload or a secret. */
export interface ForwardLog {
  level: 'info' | 'warn' | 'error';
  msg: 'forward';
  /** The record's identity. */
  id: string;
  eventType: string;
  webhookId: string;
  sink?: string;
  outcome: ForwardOutcome | 'dead_letter_failed';
  attempts?: number;
  reason?: string;
  latencyMs: number;
}

/** Which event types are forwarded: `DINGTALK_FORWARD_TYPES`, a comma list where `*` matches any run of characters. */
export function typeFilter(spec: string | undefined): (eventType: string) => boolean {
  const patterns = (spec ?? '').split(',').map((pattern) => pattern.trim()).filter(Boolean);
  if (patterns.length === 0) return () => true;
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const matcher = new RegExp(`^(?:${patterns.map((pattern) => pattern.split('*').map(escape).join('.*')).join('|')})$`);
  return (eventType) => matcher.test(eventType);
}

export interface ForwarderOptions {
  sinks: readonly Sink[];
  deadLetter: DeadLetter;
  /** Default: every type. */
  types?: (eventType: string) => boolean;
  /** Default {@link DEFAULT_RETRY}. */
  retry?: RetryPolicy;
  /** Default: one JSON line per record and sink on stdout. */
  log?: (entry: ForwardLog) => void;
  now?: () => Date;
}

/** The outcome of a batch: the positions of the records whose failure could not even be dead-lettered. */
export interface BatchResult {
  outcomes: (ForwardOutcome | 'failed')[];
  failed: number[];
}

/** Delivers records to every sink, at least once; built once per container. */
export interface Forwarder {
  /**
   * Delivers one record to each sink, retrying with backoff; a sink that still refuses gets the
   * record dead-lettered. Resolves `skipped` for handshakes and types not forwarded.
   * @throws when a dead letter could not be written: the caller must let the stream retry.
   */
  forward(record: EventRecord): Promise<ForwardOutcome>;
  /**
   * {@link forward} for a stream batch, in order. Once a sink has used up its retries on one record,
   * the rest of the batch gets one attempt each at that sink (it is evidently down), so a dead
   * receiver costs a batch seconds, not minutes; those records are dead-lettered like the first.
   */
  forwardBatch(records: readonly EventRecord[]): Promise<BatchResult>;
}

/** Builds the cloud-neutral forwarder both clouds' `forward` functions and the CLI's replay share. */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const { sinks, deadLetter, types = () => true, retry = DEFAULT_RETRY, log = jsonLine, now = () => new Date() } = options;

  const deliver = async (record: EventRecord, sink: Sink, attempts: number): Promise<ForwardOutcome> => {
    const started = performance.now();
    const webhookId = webhookIdOf(record);
    const line = (entry: Pick<ForwardLog, 'level' | 'outcome'> & Partial<ForwardLog>) =>
      log({ msg: 'forward', id: record.id, eventType: record.eventType, webhookId, sink: sink.name, ...entry, latencyMs: Math.round(performance.now() - started) });
    let reason = '';
    let attempt = 0;
    let delay = retry.firstDelayMs;
    while (attempt < attempts) {
      attempt += 1;
      try {
        await sink.deliver(record);
        line({ level: 'info', outcome: 'delivered', attempts: attempt });
        return 'delivered';
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError((error as Error)?.name ?? 'Error');
        reason = failure.reason;
        if (!failure.retryable) break;
      }
      if (attempt < attempts) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, retry.maxDelayMs);
      }
    }
    const entry: DeadLetterEntry = {
      id: record.id,
      ownerKey: record.ownerKey,
      eventType: record.eventType,
      receivedAt: record.receivedAt,
      webhookId,
      sink: sink.name,
      reason,
      attempts: attempt,
      failedAt: now().toISOString(),
    };
    try {
      await deadLetter.put(entry);
    } catch (error) {
      line({ level: 'error', outcome: 'dead_letter_failed', attempts: attempt, reason: `${reason}; dead letter failed: ${(error as Error)?.name ?? 'Error'}` });
      throw error;
    }
    line({ level: 'warn', outcome: 'dead_lettered', attempts: attempt, reason });
    return 'dead_lettered';
  };

  const forwardTo = async (record: EventRecord, attemptsFor: (sink: Sink) => number, down?: Set<Sink>): Promise<ForwardOutcome> => {
    if (HANDSHAKES.has(record.eventType) || !types(record.eventType) || sinks.length === 0) return 'skipped';
    let outcome: ForwardOutcome = 'delivered';
    let failure: unknown;
    for (const sink of sinks) {
      try {
        if ((await deliver(record, sink, attemptsFor(sink))) === 'dead_lettered') {
          outcome = 'dead_lettered';
          down?.add(sink);
        } else {
          down?.delete(sink);
        }
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
    return outcome;
  };

  return {
    forward: (record) => forwardTo(record, () => retry.attempts),
    async forwardBatch(records) {
      const down = new Set<Sink>();
      const result: BatchResult = { outcomes: [], failed: [] };
      for (const [index, record] of records.entries()) {
        try {
          result.outcomes.push(await forwardTo(record, (sink) => (down.has(sink) ? 1 : retry.attempts), down));
        } catch {
          result.outcomes.push('failed');
          result.failed.push(index);
        }
      }
      return result;
    },
  };
}

/** What a replay made of its records: each one's outcome, and every record and sink no attempt delivered to. */
export interface Replay {
  outcomes: BatchResult['outcomes'];
  /** Kept here rather than dead-lettered: the records stay in the table, to be replayed again. */
  failures: DeadLetterEntry[];
}

/**
 * Delivers stored records again (the CLI's `forward`, the inspector's re-deliver) through the forward
 * function's own forwarder, signing and envelope included, as one batch; what a sink still refuses
 * after every retry is answered in {@link Replay.failures}, not dead-lettered.
 */
export async function replay(records: readonly EventRecord[], options: Pick<ForwarderOptions, 'sinks' | 'retry' | 'log'>): Promise<Replay> {
  const failures: DeadLetterEntry[] = [];
  const forwarder = createForwarder({ log: () => {}, ...options, deadLetter: { put: async (entry) => void failures.push(entry) } });
  const { outcomes } = await forwarder.forwardBatch(records);
  return { outcomes, failures };
}
