import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createCallback, type Callback } from '../../core/callback';
import { optional, readAll, readAllAsync, required, type Environment } from '../../core/environment';
import { createForwarder, type DeadLetter, type Forwarder, type ForwarderOptions, type Sink } from '../../core/forward';
import { forwardSinks, loadForwardSettings, type ForwardSettings } from '../../core/forward-settings';
import type { Logger } from '../../core/log';
import { loadRecoverSettings } from '../../core/recover';
import type { RecoverRun } from '../../core/recover-run';
import { AwsJsonClient, credentialsFromEnv, dynamoDbPutClient, SSM } from './aws-json-client';
import { DynamoDbEventStore } from './dynamodb-store';
import { DynamoDbInbox } from './dynamodb-inbox';
import { DynamoDbEventWriter, type DynamoDbPutClient } from './dynamodb-writer';
import { eventBridgeSink } from './eventbridge-sink';
import { forwardSecret } from './forward-secret';
import { dynamoDbWriterSettings } from './settings';
import { sqsDeadLetter } from './sqs-dead-letter';
import { loadDingTalkSettings, loadSsmRecoverSettings } from './ssm-settings';

/**
 * How each AWS function is set up: its settings (from SSM under `DINGTALK_SSM_PREFIX` on a deployed
 * stage, else the environment) and its clients, every bad setting named at once. The three handlers
 * call these at their first invocation; tests and `npm start` hand them their own clients.
 */

/** What the callback may be handed instead of making its own. */
export interface AwsCallbackClients {
  /** Default: the small client (`aws-json-client.ts`) for the function's region, or `DYNAMODB_ENDPOINT`. */
  dynamodb?: DynamoDbPutClient;
  /** Default: the small client for the function's region, or `AWS_ENDPOINT_URL_SSM`, made only when `DINGTALK_SSM_PREFIX` is set. */
  ssm?: AwsJsonClient;
}

/** What recover may be handed instead of making its own. */
export interface AwsRecoverClients {
  /** Default: an SDK client for the function's region, or `DYNAMODB_ENDPOINT`. */
  dynamodb?: DynamoDBClient;
  /** As the callback's. */
  ssm?: AwsJsonClient;
}

/** What forward may be handed instead of making its own. */
export interface AwsForwardClients {
  /** Default: a client for the function's region, made only when the webhook secret is in SSM. */
  ssm?: SSMClient;
  /** Default: a client for the function's region. */
  eventBridge?: EventBridgeClient;
  /** Default: the SQS queue `DINGTALK_DEAD_LETTER_QUEUE_URL`. */
  deadLetter?: DeadLetter;
}

/** Lambda's region and the role's keys, in the environment as Lambda sets them. */
function lambdaAws(env: Environment) {
  return { region: required(env, 'AWS_REGION'), credentials: credentialsFromEnv(env) };
}

function ssmClient(env: Environment): AwsJsonClient {
  return new AwsJsonClient({ ...lambdaAws(env), service: SSM, endpoint: optional(env, 'AWS_ENDPOINT_URL_SSM') });
}

/**
 * The callback: the DingTalk settings and the DynamoDB writer's (`providers/aws/settings.ts`), as
 * the core's pipeline.
 * @throws ConfigError naming every variable or parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function callbackSetup(env: Environment, clients: AwsCallbackClients, log: Logger): Promise<Callback> {
  const [settings, store] = await readAllAsync(
    () => loadDingTalkSettings(env, () => clients.ssm ?? ssmClient(env)),
    () => {
      const { tableName, endpoint, putDeadlineMs } = dynamoDbWriterSettings(env);
      return new DynamoDbEventWriter({ tableName, putDeadlineMs, client: clients.dynamodb ?? dynamoDbPutClient({ ...lambdaAws(env), endpoint }) });
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
    () => (prefix ? loadSsmRecoverSettings(prefix, env, clients.ssm ?? ssmClient(env)) : loadRecoverSettings(env)),
    () => readAll(() => required(env, 'EVENTS_TABLE'), () => required(env, 'RECOVER_INBOX_TABLE')),
  );
  const client = clients.dynamodb ?? new DynamoDBClient({ endpoint: optional(env, 'DYNAMODB_ENDPOINT') });
  return { settings, store: new DynamoDbEventStore({ tableName, client }), inbox: new DynamoDbInbox({ tableName: inboxTable, client }) };
}

/**
 * The sinks of the settings on AWS: the webhook and the EventBridge bus (`DINGTALK_EVENT_BUS`). The
 * forward function, `npm start` and the CLI's replay all deliver to these.
 */
export function awsSinks(settings: ForwardSettings, eventBridge?: EventBridgeClient): Sink[] {
  return forwardSinks(settings, (eventBus) => eventBridgeSink({ client: eventBridge ?? new EventBridgeClient({}), eventBus }));
}

/**
 * Forward: the sinks and the dead-letter queue (`DINGTALK_DEAD_LETTER_QUEUE_URL`), as a forwarder;
 * undefined when no sink is set, and the function forwards nothing.
 * @throws ConfigError naming every variable or parameter that is missing or invalid; SSM's own errors as they are.
 */
export async function forwardSetup(env: Environment, clients: AwsForwardClients, options: Pick<ForwarderOptions, 'retry' | 'log'>): Promise<Forwarder | undefined> {
  const [settings, deadLetter] = await readAllAsync(
    async () => loadForwardSettings(env, await forwardSecret(env, () => clients.ssm ?? new SSMClient({}))),
    () => clients.deadLetter ?? sqsDeadLetter({ client: new SQSClient({}), queueUrl: required(env, 'DINGTALK_DEAD_LETTER_QUEUE_URL') }),
  );
  const sinks = awsSinks(settings, clients.eventBridge);
  return sinks.length === 0 ? undefined : createForwarder({ sinks, deadLetter, types: settings.types, ...options });
}
