import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { load } from 'js-yaml';
import type { AwsJsonClient } from '../aws/aws-json-client';

/** The Serverless configuration whose table resources define the tables everywhere. */
const SERVERLESS_AWS_YML = join(__dirname, '..', '..', 'serverless.aws.yml');

/** The part of a table resource that `CreateTable` takes as it is. */
interface TableProperties {
  AttributeDefinitions?: unknown[];
  KeySchema?: unknown[];
  GlobalSecondaryIndexes?: unknown[];
  BillingMode?: string;
}

/** A `CreateTable` input. */
export type CreateTableInput = TableProperties & { TableName: string };

/**
 * A table resource of `serverless.aws.yml` (`EventsTable`, `RecoverInboxTable`) as a `CreateTable`
 * input named `tableName`: keys, indexes and billing mode; what DynamoDB alone cannot honour locally
 * (backups, encryption) is left to the cloud.
 */
export function tableInput(resource: 'EventsTable' | 'RecoverInboxTable', tableName: string): CreateTableInput {
  const properties = tableResources()?.[resource]?.Properties;
  if (!properties?.KeySchema) throw new Error(`${SERVERLESS_AWS_YML} defines no ${resource} resource with a KeySchema`);
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode } = properties;
  return { TableName: tableName, AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode };
}

/** Table resources by name, as `serverless.aws.yml` declares them. */
type TableResources = Record<string, { Properties?: TableProperties }>;

/** The last parse of `serverless.aws.yml`, and the text it parsed. */
let parsed: { text: string; resources: TableResources | undefined } | undefined;

/** The table resources of `serverless.aws.yml`, parsed again only when its text changed since the last table (a test file makes dozens). */
function tableResources(): TableResources | undefined {
  const text = readFileSync(SERVERLESS_AWS_YML, 'utf8');
  if (parsed?.text !== text) parsed = { text, resources: (load(text) as { resources?: { Resources?: TableResources } } | undefined)?.resources?.Resources };
  return parsed.resources;
}

/** Creates the events table as `serverless.aws.yml` defines it, unless a table of that name exists. */
export async function ensureEventTable(client: AwsJsonClient, tableName: string): Promise<void> {
  await ensureTable(client, tableInput('EventsTable', tableName));
}

/** Creates the recover inbox table as `serverless.aws.yml` defines it, unless a table of that name exists. */
export async function ensureRecoverInboxTable(client: AwsJsonClient, tableName: string): Promise<void> {
  await ensureTable(client, tableInput('RecoverInboxTable', tableName));
}

/** How long a new local table may stay CREATING before {@link ensureTable} gives up. */
const ACTIVE_WITHIN_MS = 10_000;

/**
 * Creates the table unless it exists, and resolves once it is ACTIVE: dynalite answers CreateTable
 * with the table CREATING and marks it ACTIVE in a later write to its store, and until then a put
 * is refused as ResourceNotFoundException (seen on a busy machine with the data on disk).
 */
async function ensureTable(client: AwsJsonClient, input: CreateTableInput): Promise<void> {
  try {
    await client.call('CreateTable', input);
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  const deadline = Date.now() + ACTIVE_WITHIN_MS;
  while ((await client.call<{ Table?: { TableStatus?: string } }>('DescribeTable', { TableName: input.TableName })).Table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${input.TableName} is not ACTIVE after ${ACTIVE_WITHIN_MS} ms`);
    await sleep(10);
  }
}
