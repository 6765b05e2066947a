import type { Environment } from '../../core/environment';
import type { ForwardLog, RetryPolicy } from '../../core/forward';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLine } from '../../core/log';
import { decodeStreamRecords, isDynamoDbStreamEvent } from '../../providers/aws/dynamodb-stream';
import { forwardSetup, type AwsForwardClients } from '../../providers/aws/setup';

/** Lambda's partial batch response: the stream retries from the first record named here. */
export interface StreamBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** A Lambda handler for DynamoDB stream batches. */
export type StreamHandler = (event: unknown) => Promise<StreamBatchResponse>;

/** What the forward handler is built from; tests and `npm start` inject their own. */
export interface AwsForwardDeps extends AwsForwardClients {
  /** Default `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: the core's. */
  retry?: RetryPolicy;
  /** Default: one JSON line per record and sink on stdout. */
  log?: (entry: ForwardLog | StreamLog) => void;
}

/** The line for a batch or a stream record that carries no event. */
export interface StreamLog {
  level: 'info' | 'warn';
  msg: 'forward_batch';
  records: number;
  /** Why records were not forwarded: no sink set, or no event record in them. */
  skipped?: string;
  sequenceNumber?: string;
}

/**
 * Builds the forward function's handler for the events table's stream (new images, inserts only).
 * Every record goes to each configured sink, retried with backoff, then dead-lettered; a record
 * whose dead letter could not be written is reported in `batchItemFailures`, so the stream retries
 * it and, past its retry budget, sends the batch to the on-failure destination. With no sink set it
 * acknowledges every batch and forwards nothing (docs/forward.md). Its setup (`forwardSetup` of
 * `providers/aws/setup.ts`) runs at the first invocation; a failed one fails that invocation and is
 * tried again on the next.
 */
export function createHandler(deps: AwsForwardDeps = {}): StreamHandler {
  const { env = process.env, log = jsonLine } = deps;
  const setup = lazySetup(() => forwardSetup(env, deps, { retry: deps.retry, log }));

  return async (event) => {
    const forwarder = await setup();
    if (!isDynamoDbStreamEvent(event)) throw new TypeError('not a DynamoDB stream event');
    if (!forwarder) {
      log({ level: 'info', msg: 'forward_batch', records: event.Records.length, skipped: 'no sink set (DINGTALK_FORWARD_URL, DINGTALK_EVENT_BUS)' });
      return { batchItemFailures: [] };
    }
    const decoded = await decodeStreamRecords(event);
    for (const entry of decoded) {
      if ('skipped' in entry) log({ level: 'warn', msg: 'forward_batch', records: 1, skipped: entry.skipped, sequenceNumber: entry.sequenceNumber });
    }
    const carrying = decoded.filter((entry) => 'record' in entry);
    const { failed } = await forwarder.forwardBatch(carrying.map((entry) => entry.record));
    return { batchItemFailures: failed.map((index) => ({ itemIdentifier: carrying[index]!.sequenceNumber })) };
  };
}

/** The Lambda entry point of `serverless.aws.yml`'s `forward` function. */
export const handler = createHandler();
