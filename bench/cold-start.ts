import { percentile } from '../cli/stats';
import { openReply, sealPush } from '../core/dingtalk-side';
import { createTablestoreClient } from '../providers/aliyun/tablestore-client';
import { ensureEventTable as ensureTablestoreEventTable } from '../deploy/aliyun/tablestore-tables';
import { SSM_PARAMETERS } from '../providers/aws/ssm-settings';
import { startDynamoDbServer } from '../providers/local/dynamodb-server';
import { ensureEventTable as ensureDynamoDbEventTable } from '../providers/local/events-table';
import { LOCAL_AWS_CREDENTIALS, LOCAL_REGION, localDynamoDbClient, localDynamoDbEndpoint } from '../providers/local/local-dynamodb';
import { bareNodeStart, UnpackedBundle, type Answer, type Invocation } from '../testkit/bundle';
import { FakeSsm } from '../testkit/fake-ssm';
import { loadJson, SAMPLE_ENV, SAMPLE_OWNER, SAMPLE_SETTINGS } from '../testkit/fixtures';
import { ALIYUN_TEST_PACKAGE, AWS_TEST_PACKAGE, packageService, type PackagedService } from '../testkit/serverless';
import { startTablestoreServer } from '../testkit/tablestore-server';
import { approvalPayload } from './payloads';
import { fcGatewayEvent, httpApiEvent, restApiEvent } from '../testkit/gateway-events';

/** The clouds, by the names the bench reports them under. */
export type Cloud = 'aws' | 'aliyun';

/** What the bench starts cold: the AWS bundle behind an HTTP API (as deployed) and behind a REST API, and the Alibaba bundle. */
export type Start = 'aws' | 'awsRestApi' | 'aliyun';

/** Each cloud's deployment, made by the real `serverless package`. */
export type Packages = Record<Cloud, PackagedService>;

/** Medians of the cold starts of one bundle (or of bare node), in milliseconds. */
export interface ColdStart {
  /** Spawning node to the answer: what DingTalk waits for. */
  totalMs: number;
  /** Of which loading the bundle, once node had booted. */
  loadMs: number;
  /** Of which the first push: settings, clients, the store's round trip, the reply. */
  firstPushMs: number;
  /** The CPU time the process had used by its answer. */
  cpuMs: number;
  /** How much longer than bare node's start in the same round: paired, so a busy spell on the machine cancels out. */
  overBareMs: number;
  /** The spread of that difference over the rounds: its first and third quartiles. */
  overBareQuartilesMs: [number, number];
}

/** The cold starts of both bundles (the AWS one behind either gateway) and of a bare node. */
export type ColdStarts = Record<Start | 'bareNode', ColdStart>;

interface AwsTemplate {
  Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, string> } } }>;
}
interface AliyunTemplate {
  Resources: Record<string, { Type: string; Properties: { environmentVariables?: Record<string, string> } }>;
}

/** Packages both configurations side by side, each in its own temporary folder. */
export async function packageBoth(): Promise<Packages> {
  // The function gets the local Tablestore's endpoint when invoked.
  const [aws, aliyun] = await Promise.allSettled([
    packageService('serverless.aws.yml', AWS_TEST_PACKAGE),
    packageService('serverless.aliyun.yml', ALIYUN_TEST_PACKAGE),
  ]);
  if (aws.status === 'fulfilled' && aliyun.status === 'fulfilled') return { aws: aws.value, aliyun: aliyun.value };
  await Promise.all([aws, aliyun].map((outcome) => outcome.status === 'fulfilled' && outcome.value.remove()));
  throw [aws, aliyun].map((outcome) => outcome.status === 'rejected' && outcome.reason).find(Boolean);
}

/** What a cold start answers: the message of push `n`, the ownerKey it is sealed for, and what the answer must be. */
export interface ColdPush {
  message: (n: number) => string;
  ownerKey: string;
  /** The reply DingTalk expects for push `n`'s message. */
  reply: (message: string) => string;
  /** The outcome its log line must show: `created` for an event, `check` for a handshake. */
  outcome: 'created' | 'check';
}

/** An approval push, stored: the cold start of the figures. */
export const APPROVAL: ColdPush = { message: approvalPayload, ownerKey: SAMPLE_OWNER, reply: () => 'success', outcome: 'created' };

/**
 * The URL check DingTalk sends while an ISV suite is being created, sealed for its placeholder
 * ownerKey and answered with its `Random` (docs/isv.md): the one DingTalk gives only 1.2 s.
 */
export const SUITE_CHECK: ColdPush = {
  message: (n) => JSON.stringify({ EventType: 'check_create_suite_url', Random: `bench${n}`, TestSuiteKey: 'suite4xxxxxxxxxxxxxxx' }),
  ownerKey: 'suite4xxxxxxxxxxxxxxx',
  reply: (message) => (JSON.parse(message) as { Random: string }).Random,
  outcome: 'check',
};

/**
 * Cold starts of each packaged bundle, as deployed: a fresh `node` loads it and answers one approval
 * push with the environment its template gives the function (so the AWS one reads its settings
 * from SSM first), against local stand-ins (dynalite, the local Tablestore server, a fake SSM);
 * and of a bare `node` for reference. `runs` rounds taking turns; the median of each.
 * @throws when a bundle does not store a push and answer it with a reply DingTalk accepts.
 */
export async function measureColdStarts(packages: Packages, runs: number, what: ColdPush = APPROVAL): Promise<ColdStarts> {
  const awsFunction = Object.values((await packages.aws.json<AwsTemplate>('cloudformation-template-update-stack.json')).Resources).find((resource) => resource.Type === 'AWS::Lambda::Function');
  const aliyunFunction = Object.values((await packages.aliyun.json<AliyunTemplate>('configuration-template-update.json')).Resources).find((resource) => resource.Type === 'ALIYUN::FC::Function');
  const awsEnv = awsFunction?.Properties.Environment?.Variables ?? {};
  const aliyunEnv = aliyunFunction?.Properties.environmentVariables ?? {};

  const dynamo = await startDynamoDbServer({ port: 0 });
  const tablestore = await startTablestoreServer();
  const ssm = await new FakeSsm().start();
  const bundles = { aws: await UnpackedBundle.from(packages.aws.zip), aliyun: await UnpackedBundle.from(packages.aliyun.zip) };
  try {
    for (const [name, variable] of Object.entries(SSM_PARAMETERS)) ssm.parameters.set(`${awsEnv.DINGTALK_SSM_PREFIX}/${name}`, SAMPLE_ENV[variable]);
    const endpoint = localDynamoDbEndpoint(dynamo.port);
    const dynamodb = localDynamoDbClient(endpoint);
    await ensureDynamoDbEventTable(dynamodb, awsEnv.EVENTS_TABLE!);
    dynamodb.destroy();
    await ensureTablestoreEventTable(createTablestoreClient(tablestore.clientOptions), aliyunEnv.EVENTS_TABLE!);

    let pushes = 0;
    const sent: string[] = [];
    const push = () => {
      const message = what.message(++pushes);
      sent.push(message);
      return sealPush(SAMPLE_SETTINGS, message, what.ownerKey);
    };
    const awsInvocation = (event: (request: ReturnType<typeof push>) => unknown) => (): Invocation => {
        return {
          entry: 'handlers/aws/callback.js',
          event: event(push()),
          env: {
            ...awsEnv,
            AWS_ENDPOINT_URL_DYNAMODB: endpoint,
            AWS_ENDPOINT_URL_SSM: ssm.endpoint,
            AWS_REGION: LOCAL_REGION,
            AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
          },
        };
      };
    const invocations: Record<Start, () => Invocation> = {
      aws: awsInvocation(httpApiEvent),
      awsRestApi: awsInvocation(restApiEvent),
      aliyun: () => {
        const { query, body } = push();
        const { accessKeyId, secretAccessKey } = tablestore.credentials;
        return {
          entry: 'handlers/aliyun/callback.js',
          event: fcGatewayEvent({ query, body }),
          eventAsBuffer: true,
          context: { ...loadJson<object>('fc-context'), credentials: { accessKeyId, accessKeySecret: secretAccessKey } },
          env: { ...aliyunEnv, TABLESTORE_INSTANCE: tablestore.instance, TABLESTORE_ENDPOINT: tablestore.endpoint },
        };
      },
    };

    const cloudOf: Record<Start, Cloud> = { aws: 'aws', awsRestApi: 'aws', aliyun: 'aliyun' };
    const answers: Record<keyof ColdStarts, Answer[]> = { bareNode: [], aws: [], awsRestApi: [], aliyun: [] };
    for (let round = 0; round < runs; round++) {
      answers.bareNode.push(await bareNodeStart());
      for (const start of ['aws', 'awsRestApi', 'aliyun'] as const) {
        const invocation = invocations[start]();
        answers[start].push(checked(start, await bundles[cloudOf[start]].invoke(invocation), what, sent.at(-1)!));
      }
    }
    const { bareNode } = answers;
    return { bareNode: summarise(bareNode, bareNode), aws: summarise(answers.aws, bareNode), awsRestApi: summarise(answers.awsRestApi, bareNode), aliyun: summarise(answers.aliyun, bareNode) };
  } finally {
    await Promise.all([bundles.aws.remove(), bundles.aliyun.remove(), dynamo.close(), tablestore.close(), ssm.stop()]);
  }
}

/** A fast wrong answer is no cold start: the push must be answered as DingTalk checks it, and stored when it is an event. */
function checked(cloud: Start, answer: Answer, what: ColdPush, message: string): Answer {
  const response = answer.response as { statusCode?: number; body?: string } | undefined;
  if (answer.error !== undefined || response?.statusCode !== 200 || openReply(SAMPLE_SETTINGS, response.body ?? '', what.ownerKey) !== what.reply(message)) {
    throw new Error(`the ${cloud} bundle did not acknowledge the push: ${answer.error ?? JSON.stringify(response)}\n${answer.stderr}`);
  }
  if (!answer.logs.some((line) => (JSON.parse(line) as { outcome?: string }).outcome === what.outcome)) throw new Error(`the ${cloud} bundle's log shows no ${what.outcome}: ${answer.stdout}`);
  return answer;
}

/** Medians over the rounds; `bare` holds bare node's start of each round. */
export function summarise(answers: Answer[], bare: Answer[]): ColdStart {
  const sorted = (value: (timings: NonNullable<Answer['timings']>, answer: Answer, round: number) => number) =>
    answers.map((answer, round) => value(answer.timings!, answer, round)).sort((a, b) => a - b);
  const median = (value: Parameters<typeof sorted>[0]) => percentile(sorted(value), 0.5);
  const overBare = sorted((_, answer, round) => answer.elapsedMs - bare[round]!.elapsedMs);
  return {
    overBareMs: percentile(overBare, 0.5),
    overBareQuartilesMs: [percentile(overBare, 0.25), percentile(overBare, 0.75)],
    totalMs: median((_, answer) => answer.elapsedMs),
    loadMs: median((timings) => timings.loadedMs - timings.bootedMs),
    firstPushMs: median((timings) => timings.answeredMs - timings.loadedMs),
    cpuMs: median((timings) => timings.cpuMs),
  };
}
