import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { LOCAL_REGION } from './local-dynamodb';

/** An item as the DynamoDB API carries it (binary attributes as base64): a stream's new image. */
type Image = Record<string, Record<string, unknown>>;

/** What the forward function answers: the records the stream must retry. */
interface BatchResponse {
  batchItemFailures?: { itemIdentifier: string }[];
}

export interface LocalStreamOptions {
  tableName: string;
  /** Invokes the forward function with a stream event; throws when the invocation itself failed. */
  invoke: (event: object) => Promise<BatchResponse | undefined>;
  /** Takes the on-failure record of a batch the stream gave up on (the dead-letter queue). */
  onFailure: (message: object) => Promise<void>;
  /** As the deployed event source mapping: `serverless.aws.yml`, functions.forward. */
  batchSize?: number;
  maximumRetryAttempts?: number;
  /** The wait before a retry. */
  retryDelayMs?: number;
  /** Told of each batch given up on. */
  warn?: (message: string) => void;
  /**
   * A file that keeps every record not handled yet (npm start's data folder holds it), so that what
   * a killed `npm start` had not forwarded is replayed when it starts again.
   */
  journal?: string;
  /** Told of each batch once handled: the images the function took, and those the stream gave up on. */
  onHandled?: (taken: Image[], gaveUpOn: Image[]) => void;
}

/** The stream of one table under `npm start`: hand it each new item, it invokes the forward function. */
export interface LocalStream {
  insert(image: Image): void;
  /** Resolves once every record handed in so far has been processed. */
  drained(): Promise<void>;
  /** How many records the journal held from an earlier run: they go first, once {@link replay} (or an insert) starts the stream. */
  readonly leftOver: number;
  /** Starts delivering what the journal held, once the forward function can be invoked. */
  replay(): void;
}

/**
 * A DynamoDB stream for a store that has none (dynalite): one shard, in order. New items become
 * `INSERT` records shaped as DynamoDB Streams delivers them to Lambda (NEW_IMAGE view), in batches
 * of up to `batchSize`. As the deployed event source mapping does with `ReportBatchItemFailures`,
 * a batch is retried from its first reported failure (or whole, when the invocation failed) up to
 * `maximumRetryAttempts` times, then its on-failure record goes to `onFailure` and the shard moves on.
 */
export function createLocalStream({ tableName, invoke, onFailure, batchSize = 10, maximumRetryAttempts = 3, retryDelayMs = 1000, warn = () => {}, journal, onHandled = () => {} }: LocalStreamOptions): LocalStream {
  const pending: object[] = [];
  const streamArn = `arn:aws:dynamodb:${LOCAL_REGION}:000000000000:table/${tableName}/stream/local`;
  let sequence = 0;
  let running: Promise<void> | undefined;

  const record = (image: Image) => {
    sequence += 1;
    const sequenceNumber = String(sequence).padStart(21, '0');
    return {
      eventID: `local${sequenceNumber}`,
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: LOCAL_REGION,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: { id: image.id },
        NewImage: image,
        SequenceNumber: sequenceNumber,
        SizeBytes: Buffer.byteLength(JSON.stringify(image)),
        StreamViewType: 'NEW_IMAGE',
      },
      eventSourceARN: streamArn,
    };
  };

  /** Delivers a batch; answers the records the stream gave up on (none when the function took them all). */
  const deliverBatch = async (batch: ReturnType<typeof record>[]): Promise<ReturnType<typeof record>[]> => {
    let remaining = batch;
    for (let attempt = 0; ; attempt += 1) {
      let failedFrom: number;
      let condition = 'RetryAttemptsExhausted';
      try {
        const answer = await invoke({ Records: remaining });
        const failed = new Set((answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        failedFrom = remaining.findIndex((entry) => failed.has(entry.dynamodb.SequenceNumber));
        if (failedFrom < 0) return [];
      } catch (error) {
        failedFrom = 0;
        condition = `FunctionError: ${(error as Error).message}`;
      }
      remaining = remaining.slice(failedFrom);
      if (attempt >= maximumRetryAttempts) {
        const first = remaining[0]!.dynamodb;
        const last = remaining.at(-1)!.dynamodb;
        warn(`local stream: gave up on ${remaining.length} record(s) after ${attempt + 1} invocations (${condition}); see the dead letters`);
        await onFailure({
          requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempt + 1, reason: condition },
          timestamp: new Date().toISOString(),
          DDBStreamBatchInfo: { shardId: 'local', startSequenceNumber: first.SequenceNumber, endSequenceNumber: last.SequenceNumber, batchSize: remaining.length, streamArn },
        }).catch(() => undefined);
        return remaining;
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
    }
  };

  // The journal: a line per record handed in (`{"image": …}`), and a line per batch handled
  // (`{"done": n}`, the next n records); emptied whenever nothing is pending.
  const note = (entry: object) => journal && appendFileSync(journal, `${JSON.stringify(entry)}\n`);
  const leftOver = journal ? unhandled(journal) : [];
  if (journal) writeFileSync(journal, leftOver.map((image) => `${JSON.stringify({ image })}\n`).join(''));
  pending.push(...leftOver.map(record));

  const pump = async () => {
    while (pending.length > 0) {
      const batch = pending.splice(0, batchSize) as ReturnType<typeof record>[];
      const gaveUpOn = await deliverBatch(batch);
      note({ done: batch.length });
      onHandled(batch.filter((entry) => !gaveUpOn.includes(entry)).map((entry) => entry.dynamodb.NewImage), gaveUpOn.map((entry) => entry.dynamodb.NewImage));
    }
    if (journal) writeFileSync(journal, '');
    running = undefined;
  };

  return {
    insert(image) {
      note({ image });
      pending.push(record(image));
      running ??= pump();
    },
    drained: async () => {
      while (running) await running;
    },
    leftOver: leftOver.length,
    replay() {
      if (pending.length > 0) running ??= pump();
    },
  };
}

/** The images a journal holds that no `done` line accounts for, in order; a line cut short by a kill is skipped. */
function unhandled(journal: string): Image[] {
  let text: string;
  try {
    text = readFileSync(journal, 'utf8');
  } catch {
    return [];
  }
  const images: Image[] = [];
  let done = 0;
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { image?: Image; done?: number };
      if (entry.image) images.push(entry.image);
      else if (typeof entry.done === 'number') done += entry.done;
    } catch {
      // the last line, cut short
    }
  }
  return images.slice(done);
}
