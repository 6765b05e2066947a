import { createCallback, type Callback } from '../../core/callback';
import { optional, readAll, readAllAsync, required, type Environment } from '../../core/environment';
import { createForwarder, type DeadLetter, type Forwarder, type ForwarderOptions, type Sink } from '../../core/forward';
import { forwardSinks, loadForwardSettings, type ForwardSettings } from '../../core/forward-settings';
import type { Logger } from '../../core/log';
import { loadRecoverSettings } from '../../core/recover';
import type { RecoverRun } from '../../core/recover-run';
import { leaseMs, STREAM_LEASES, type StreamRun } from '../../core/stream-lease';
import { wsConnect } from '../../core/stream-relay';
import { loadStreamSettings } from '../../core/stream-settings';
import { DYNAMODB, EVENTBRIDGE, functionClient, SQS, SSM, type AwsJsonClient } from './aws-json-client';
import { DynamoDbEventStore } from './dynamodb-store';
import { DynamoDbInbox } from './dynamodb-inbox';
import { DynamoDbEventWriter } from './dynamodb-writer';
import { eventBridgeSink } from './eventbridge-sink';
import { dynamoDbWriterSettings } from './settings';
import { sqsDeadLetter } from './sqs-dead-letter';
import { loadDingTalkSettings, loadForwardSecret, loadSsmRecoverSettings, loadSsmStreamSettings } from './ssm-settings';

/**
 * How each AWS function is set up: its settings (from SSM under `DINGTALK_SSM_PREFIX` on a deployed
 * stage, else the environment) and its clients, every bad setting named at once. The three handlers
 * call these at their first invocation; tests and `npm start` hand them their own clients. Every
 * client is the one small client of `aws-json-client.ts` (`functionClient`): the region Lambda runs
 * in, the role's keys, and the endpoint of that region's partition unless `AWS_ENDPOINT_URL_<SERVICE>`
 * or `AWS_ENDPOINT_URL` names another, as the AWS SDK reads them.
 */

/** What the callback may be handed instead of making its own. */
export interface AwsCallbackClients {
  /** Default: a DynamoDB client for the function's region. */
  dynamodb?: AwsJsonClient;
  /** Default: an SSM client for the function's region, made only when `DINGTALK_SSM_PREFIX` is set. */
  ssm?: AwsJsonClient;
}

/** What recover may be handed instead of making its own. */
export interface AwsRecoverClients {
  /** Default: a DynamoDB client for the function's region, for the events table and the inbox. */
  dynamodb?: AwsJsonClient;
  /** As the callback's. */
  ssm?: AwsJsonClient;
}

/** What the stream function may be handed: as recover's. */
export type AwsStreamClients = AwsRecoverClients;

/** What forward may be handed instead of making its own. */
export interface AwsForwardClients {
  /** Default: an SSM client for the function's region, made only when the webhook secret is in SSM. */
  ssm?: AwsJsonClient;
  /** Default: an EventBridge client for the function's region, made only when `DINGTALK_EVENT_BUS` is set. */
  eventBridge?: AwsJsonClient;
  /** Default: the SQS queue `DINGTALK_DEAD_LETTER_QUEUE_URL`. */
  deadLetter?: DeadLetter;
}

/**
 * The callback: the DingTalk settings and the DynamoDB writer's (`providers/aws/settings.ts`), as
 * the core's pipeline.
 * @throws ConfigError naming every variable or parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function callbackSetup(env: Environment, clients: AwsCallbackClients, log: Logger): Promise<Callback> {
  const [settings, store] = await readAllAsync(
    () => loadDingTalkSettings(env, () => clients.ssm ?? functionClient(SSM, env)),
    () => {
      const { tableName, putDeadlineMs } = dynamoDbWriterSettings(env);
      return new DynamoDbEventWriter({ tableName, putDeadlineMs, client: clients.dynamodb ?? functionClient(DYNAMODB, env) });
    },
  );
  return createCallback({ settings, store, log });
}

/**
 * Recover: the app's (or suite's) settings, the events table and the inbox table
 * (`RECOVER_INBOX_TABLE`).
 * @throws ConfigError naming every variable or parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function recoverSetup(env: Environment, clients: AwsRecoverClients): Promise<RecoverRun> {
  const prefix = optional(env, 'DINGTALK_SSM_PREFIX');
  const [settings, [tableName, inboxTable]] = await readAllAsync(
    () => (prefix ? loadSsmRecoverSettings(prefix, env, clients.ssm ?? functionClient(SSM, env)) : loadRecoverSettings(env)),
    () => readAll(() => required(env, 'EVENTS_TABLE'), () => required(env, 'RECOVER_INBOX_TABLE')),
  );
  const client = clients.dynamodb ?? functionClient(DYNAMODB, env);
  return { settings, store: new DynamoDbEventStore({ tableName, client }), inbox: new DynamoDbInbox({ tableName: inboxTable, client }) };
}

/**
 * The `stream` function: the app's (or suite's) key and secret (from SSM on a deployed stage, as
 * recover reads them), the events table's writer, the lease (`DINGTALK_STREAM_LEASE_SECONDS`) and
 * the WebSocket (`ws`).
 * @throws ConfigError naming every variable or parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function streamSetup(env: Environment, clients: AwsStreamClients): Promise<StreamRun> {
  const prefix = optional(env, 'DINGTALK_SSM_PREFIX');
  const [settings, [writerSettings, lease]] = await readAllAsync(
    () => (prefix ? loadSsmStreamSettings(prefix, env, clients.ssm ?? functionClient(SSM, env)) : loadStreamSettings(env)),
    () => readAll(() => dynamoDbWriterSettings(env), () => leaseMs(env, STREAM_LEASES.aws.leaseSeconds)),
  );
  const writer = new DynamoDbEventWriter({ ...writerSettings, client: clients.dynamodb ?? functionClient(DYNAMODB, env) });
  // Imported here, not at the top: a module-level import would put `ws` in every function's bundle
  // and run it at each cold start, ~20 ms of CPU for the callback, which never opens a socket.
  return { settings, writer, connect: wsConnect((await import('ws')).default), leaseMs: lease };
}

/**
 * The sinks of the settings on AWS: the webhook and the EventBridge bus (`DINGTALK_EVENT_BUS`),
 * whose client `eventBridge` makes at its first delivery. The forward function, `npm start` and the
 * CLI's replay all deliver to these.
 */
export function awsSinks(settings: ForwardSettings, eventBridge: () => AwsJsonClient): Sink[] {
  return forwardSinks(settings, (eventBus) => eventBridgeSink({ client: eventBridge, eventBus }));
}

/**
 * Forward: the sinks and the dead-letter queue (`DINGTALK_DEAD_LETTER_QUEUE_URL`), as a forwarder;
 * undefined when no sink is set, and the function forwards nothing.
 * @throws ConfigError naming every variable or parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function forwardSetup(env: Environment, clients: AwsForwardClients, options: Pick<ForwarderOptions, 'retry' | 'log'>): Promise<Forwarder | undefined> {
  const [settings, queueUrl] = await readAllAsync(
    async () => loadForwardSettings(env, await loadForwardSecret(env, () => clients.ssm ?? functionClient(SSM, env))),
    () => (clients.deadLetter ? '' : required(env, 'DINGTALK_DEAD_LETTER_QUEUE_URL')),
  );
  const sinks = awsSinks(settings, () => clients.eventBridge ?? functionClient(EVENTBRIDGE, env));
  if (sinks.length === 0) return undefined;
  const deadLetter = clients.deadLetter ?? sqsDeadLetter({ client: functionClient(SQS, env), queueUrl });
  return createForwarder({ sinks, deadLetter, types: settings.types, ...options });
}
