import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { build } from 'esbuild';
import { startDynamoDbServer } from '../providers/local/dynamodb-server';
import { ensureEventTable } from '../providers/local/events-table';
import { LOCAL_AWS_CREDENTIALS, LOCAL_REGION, localDynamoDbClient, localDynamoDbEndpoint } from '../providers/local/local-dynamodb';
import { bareNodeStart, UnpackedBundle, type Answer } from '../testkit/bundle';
import { FakeSsm } from '../testkit/fake-ssm';
import { NAMES, TABLE } from './aws-clients/shared';
import { summarise, type ColdStart } from './cold-start';

/** The AWS clients the Lambda could make its two calls with, by the file in `bench/aws-clients/` that uses each. */
export const AWS_CLIENTS = { 'AWS SDK v3': 'sdk-v3.ts', '@aws-lite/client': 'aws-lite.ts', 'aws-json-client (ours)': 'aws-json-client.ts' } as const;

/** One contender's cold starts and its minified bundle's size. */
export interface AwsClientStart extends ColdStart {
  bundleBytes: number;
}

/**
 * Each AWS client on its own: a fresh node loads a bundle holding only that client (built with the
 * esbuild options of `serverless.aws.yml`) and makes the function's two calls, SSM `GetParameters`
 * and a conditional DynamoDB `PutItem`, against a fake SSM and dynalite. `runs` rounds taking turns
 * with a bare node; medians, and the spread of the paired difference.
 */
export async function measureAwsClients(runs: number): Promise<Record<keyof typeof AWS_CLIENTS | 'bareNode', AwsClientStart>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-clients-'));
  const dynamo = await startDynamoDbServer({ port: 0 });
  const ssm = await new FakeSsm().start();
  const bundles: Array<[keyof typeof AWS_CLIENTS, UnpackedBundle, number]> = [];
  try {
    for (const name of NAMES) ssm.parameters.set(name, 'value');
    const endpoint = localDynamoDbEndpoint(dynamo.port);
    const dynamodb = localDynamoDbClient(endpoint);
    await ensureEventTable(dynamodb, TABLE);
    dynamodb.destroy();
    for (const [name, file] of Object.entries(AWS_CLIENTS) as Array<[keyof typeof AWS_CLIENTS, string]>) {
      // As serverless.aws.yml's `custom.esbuild` bundles the function; for the SDK, as it was bundled
      // while the function used it: its ES module builds (they tree-shake to half) and the
      // environment-only credential provider in place of the default chain.
      const { outputFiles } = await build({
        entryPoints: [join(__dirname, 'aws-clients', file)],
        bundle: true,
        minify: true,
        target: 'node20',
        platform: 'node',
        format: 'cjs',
        mainFields: ['module', 'main'],
        alias: { '@aws-sdk/credential-provider-node': join(__dirname, 'aws-clients', 'env-credentials.ts') },
        write: false,
        logLevel: 'warning',
      });
      const zip = new AdmZip();
      zip.addFile('index.js', Buffer.from(outputFiles[0]!.contents));
      const zipPath = join(dir, `${file}.zip`);
      zip.writeZip(zipPath);
      bundles.push([name, await UnpackedBundle.from(zipPath), outputFiles[0]!.contents.byteLength]);
    }
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const answers = new Map<string, Answer[]>([['bareNode', []], ...bundles.map(([name]): [string, Answer[]] => [name, []])]);
    for (let round = 0; round < runs; round++) {
      answers.get('bareNode')!.push(await bareNodeStart());
      for (const [name, bundle] of bundles) {
        const answer = await bundle.invoke({ entry: 'index.js', event: {}, env });
        if (answer.error !== undefined) throw new Error(`${name} failed its two calls: ${answer.error}\n${answer.stderr}`);
        answers.get(name)!.push(answer);
      }
    }
    const bare = answers.get('bareNode')!;
    const sizes = new Map(bundles.map(([name, , bytes]) => [name as string, bytes]));
    return Object.fromEntries([...answers].map(([name, list]) => [name, { ...summarise(list, bare), bundleBytes: sizes.get(name) ?? 0 }])) as Record<keyof typeof AWS_CLIENTS | 'bareNode', AwsClientStart>;
  } finally {
    await Promise.all([...bundles.map(([, bundle]) => bundle.remove()), dynamo.close(), ssm.stop(), rm(dir, { recursive: true, force: true })]);
  }
}
