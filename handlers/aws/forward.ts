import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { required, type Environment } from '../../core/environment';
import { createForwarder, type DeadLetter, type ForwardLog, type Forwarder, type RetryPolicy, type Sink } from '../../core/forward';
import { forwardsNothing, loadForwardSettings } from '../../core/forward-settings';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLine } from '../../core/log';
import { webhookSink } from '../../core/webhook-sink';
import { decodeStreamRecords, isDynamoDbStreamEvent } from '../../providers/aws/dynamodb-stream';
import { eventBridgeSink } from '../../providers/aws/eventbridge-sink';
import { forwardSecret } from '../../providers/aws/forward-secret';
import { sqsDeadLetter } from '../../providers/aws/sqs-dead-letter';

/** Lambda's partial batch response: the stream retries from the first record named here. */
export interface StreamBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** A Lambda handler for DynamoDB stream batches. */
export type StreamHandler = (event: unknown) => Promise<StreamBatchResponse>;

/** What the forward handler is built from; tests and `npm start` inject their own. */
export interface AwsForwardDeps {
  /** Default `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: a client for the function's region, made only when the webhook secret is in SSM. */
  ssm?: SSMClient;
  /** Default: a client for the function's region. */
  eventBridge?: EventBridgeClient;
  /** Default: the SQS queue `DINGTALK_DEAD_LETTER_QUEUE_URL`. */
  deadLetter?: DeadLetter;
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
 * acknowledges every batch and forwards nothing (docs/forward.md). Setup runs at the first
 * invocation; a failed one fails that invocation and is tried again on the next.
 */
export function createHandler(deps: AwsForwardDeps = {}): StreamHandler {
  const { env = process.env, log = jsonLine } = deps;
  const setup = lazySetup(async (): Promise<Forwarder | undefined> => {
    const settings = loadForwardSettings(env, await forwardSecret(env, () => deps.ssm ?? new SSMClient({})));
    if (forwardsNothing(settings)) return undefined;
    const sinks: Sink[] = [];
    if (settings.webhook) sinks.push(webhookSink(settings.webhook));
    if (settings.eventBus) sinks.push(eventBridgeSink({ client: deps.eventBridge ?? new EventBridgeClient({}), eventBus: settings.eventBus }));
    const deadLetter = deps.deadLetter ?? sqsDeadLetter({ client: new SQSClient({}), queueUrl: required(env, 'DINGTALK_DEAD_LETTER_QUEUE_URL') });
    return createForwarder({ sinks, deadLetter, types: settings.types, ...(deps.retry && { retry: deps.retry }), log });
  });

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
