import type TableStore from 'tablestore';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RecoverInbox } from '../core/inbox';
import type { EventStore } from '../core/listing';
import { DynamoDbEventStore } from '../providers/aws/dynamodb-store';
import { DynamoDbInbox } from '../providers/aws/dynamodb-inbox';
import { createTablestoreClient } from '../providers/aliyun/tablestore-client';
import { TablestoreInbox } from '../providers/aliyun/tablestore-inbox';
import { TablestoreEventStore } from '../providers/aliyun/tablestore-store';
import { ensureRecoverInboxTable } from '../providers/local/events-table';
import { localDynamoDbClient, localDynamoDbEndpoint, LOCAL_INBOX_TABLE, openLocalEventStore } from '../providers/local/local-dynamodb';
import { stringFlag, UsageError } from './command';

/** The flags that choose the store a command reads. */
export const STORE_OPTIONS = {
  aws: { type: 'boolean' },
  aliyun: { type: 'boolean' },
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  instance: { type: 'string' },
} as const;

export const STORE_HELP = `Store (default: the local store of npm start, ${localDynamoDbEndpoint()}):
  --endpoint URL             the local store's endpoint, when npm start runs on another port
  --aws --table NAME         DynamoDB, with the usual AWS credential chain (profile, environment, role)
    [--region R]             the table's region (default: the chain's, e.g. AWS_REGION)
  --aliyun --endpoint URL --instance NAME --table NAME
                             Tablestore, with ALIBABA_CLOUD_ACCESS_KEY_ID and
                             ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN
                             for STS keys) from the environment`;

type Flags = Record<string, string | boolean | undefined>;

/** The event store the flags name. */
export function openStore(values: Flags): EventStore {
  return openStoreAndInbox(values).store;
}

/**
 * The event store the flags name, and beside it the recover inbox: on AWS `--inbox-table` (default:
 * the table's name with `-events` turned into `-recover-inbox`, as `serverless.aws.yml` names it),
 * on Alibaba Cloud `<table>_inbox`; locally the inbox of `npm start`, created if missing.
 */
export function openStoreAndInbox(values: Flags): { store: EventStore; inbox: RecoverInbox; ready: () => Promise<void> } {
  if (values.aws && values.aliyun) throw new UsageError('choose one of --aws and --aliyun');
  const inboxFlag = stringFlag(values['inbox-table']);
  if (values.aws) {
    const tableName = need(values, 'table', '--aws');
    const client = new DynamoDBClient({ region: stringFlag(values.region), endpoint: stringFlag(values.endpoint) });
    const inboxTable = inboxFlag ?? (tableName.endsWith('-events') ? tableName.replace(/-events$/, '-recover-inbox') : undefined);
    return { store: new DynamoDbEventStore({ tableName, client }), inbox: new DynamoDbInbox({ tableName: inboxTable ?? need(values, 'inbox-table', `--table ${tableName}`), client }), ready: async () => {} };
  }
  if (values.aliyun) {
    const tableName = need(values, 'table', '--aliyun');
    const client = tablestoreClient(values);
    return { store: new TablestoreEventStore({ tableName, client }), inbox: new TablestoreInbox({ tableName: inboxFlag ?? `${tableName}_inbox`, client }), ready: async () => {} };
  }
  for (const flag of ['region', 'instance', 'table', 'inbox-table'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --aws or --aliyun`);
  }
  const endpoint = stringFlag(values.endpoint) ?? localDynamoDbEndpoint();
  const client = localDynamoDbClient(endpoint);
  return {
    store: openLocalEventStore(endpoint),
    inbox: new DynamoDbInbox({ tableName: LOCAL_INBOX_TABLE, client }),
    ready: () => ensureRecoverInboxTable(client, LOCAL_INBOX_TABLE),
  };
}

function tablestoreClient(values: Flags): TableStore.Client {
  const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const secretAccessKey = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !secretAccessKey) throw new UsageError('--aliyun reads ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, and one is not set');
  return createTablestoreClient({
    endpoint: need(values, 'endpoint', '--aliyun'),
    instance: need(values, 'instance', '--aliyun'),
    accessKeyId,
    secretAccessKey,
    securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined,
  });
}

function need(values: Flags, flag: string, store: string): string {
  const value = stringFlag(values[flag]);
  if (!value) throw new UsageError(`${store} needs --${flag}`);
  return value;
}
