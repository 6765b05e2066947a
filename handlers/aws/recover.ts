import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { recoverLine, runRecover, type RecoverRun } from '../../core/recover-run';
import { loadRecoverSettings } from '../../core/recover';
import { required, type Environment } from '../../core/environment';
import { lazySetup } from '../../core/lazy-setup';
import { AwsJsonClient, credentialsFromEnv, SSM } from '../../providers/aws/aws-json-client';
import { DynamoDbEventStore } from '../../providers/aws/dynamodb-store';
import { DynamoDbInbox } from '../../providers/aws/dynamodb-inbox';
import { loadSsmRecoverSettings } from '../../providers/aws/ssm-settings';

/** What a container's recover handler is built from; tests inject their own. */
export interface AwsRecoverDeps {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: a client for the function's region, or `DYNAMODB_ENDPOINT`. */
  dynamodb?: DynamoDBClient;
  /** Default: a client for the function's region, or `AWS_ENDPOINT_URL_SSM`, with Lambda's credentials. */
  ssm?: AwsJsonClient;
  /** Where the run's one JSON line goes; default stdout. */
  log?: (line: string) => void;
}

/**
 * Builds the Lambda handler of the scheduled `recover` function: one recover pass per invocation
 * (docs/recover.md). Settings, clients and the access token are built at the first invocation and
 * kept for the container's life, so the token is fetched once in its lifetime; a failed build is
 * thrown and tried again on the next invocation. A failed pass is thrown too, after its log line,
 * so Lambda counts an error (and CloudWatch can alarm on it).
 */
export function createHandler(deps: AwsRecoverDeps = {}): (event?: unknown) => Promise<object> {
  const setup = lazySetup(() => build(deps));
  const log = deps.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  return async () => {
    const outcome = await runRecover(await setup());
    log(recoverLine(outcome));
    if ('error' in outcome) throw outcome.error;
    return outcome.summary;
  };
}

/** The Lambda entry point of `serverless.aws.yml`. */
export const handler = createHandler();

async function build({ env = process.env, dynamodb, ssm }: AwsRecoverDeps): Promise<RecoverRun> {
  const prefix = env.DINGTALK_SSM_PREFIX?.trim();
  const ssmClient = () => new AwsJsonClient({ region: required(env, 'AWS_REGION'), credentials: credentialsFromEnv(env), service: SSM, endpoint: env.AWS_ENDPOINT_URL_SSM?.trim() || undefined });
  const settings = prefix ? await loadSsmRecoverSettings(prefix, env, ssm ?? ssmClient()) : loadRecoverSettings(env);
  const client = dynamodb ?? new DynamoDBClient({ endpoint: env.DYNAMODB_ENDPOINT?.trim() || undefined });
  const store = new DynamoDbEventStore({ tableName: required(env, 'EVENTS_TABLE'), client });
  const inbox = new DynamoDbInbox({ tableName: required(env, 'RECOVER_INBOX_TABLE'), client });
  return { settings, store, inbox };
}
