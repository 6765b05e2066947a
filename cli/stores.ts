import type TableStore from 'tablestore';
import type { RecoverInbox } from '../core/inbox';
import type { EventStore } from '../core/listing';
import { ALIYUN_TABLES, AWS_TABLES } from '../core/table-names';
import { DYNAMODB, type AwsJsonClient } from '../providers/aws/aws-json-client';
import { DynamoDbEventStore } from '../providers/aws/dynamodb-store';
import { DynamoDbInbox } from '../providers/aws/dynamodb-inbox';
import { createTablestoreClient } from '../providers/aliyun/tablestore-client';
import { TablestoreInbox } from '../providers/aliyun/tablestore-inbox';
import { TablestoreEventStore } from '../providers/aliyun/tablestore-store';
import { ensureRecoverInboxTable } from '../providers/local/events-table';
import { localDynamoDbClient, localDynamoDbEndpoint, LOCAL_INBOX_TABLE, LOCAL_TABLE_NAME } from '../providers/local/local-dynamodb';
import { cliAwsClient } from './aws-client';
import { httpUrlFlag, stringFlag, UsageError } from './command';

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
  --aws --table NAME         DynamoDB, with the usual AWS credential chain (environment, profile,
                             SSO, role)
    [--region R]             the table's region (default: AWS_REGION or AWS_DEFAULT_REGION)
  --aliyun --endpoint URL --instance NAME --table NAME
                             Tablestore, with ALIBABA_CLOUD_ACCESS_KEY_ID and
                             ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN
                             for STS keys) from the environment`;

type Flags = Record<string, string | boolean | undefined>;

/** Where the flags point: a cloud's table and a client for it, or the local store of `npm start`. */
type Location =
  | { cloud: 'aws'; tableName: string; client: AwsJsonClient }
  | { cloud: 'aliyun'; tableName: string; client: TableStore.Client }
  | { cloud: 'local'; endpoint: string; client: AwsJsonClient };

function locate(values: Flags): Location {
  if (values.aws && values.aliyun) throw new UsageError('choose one of --aws and --aliyun');
  if (typeof values.endpoint === 'string') httpUrlFlag(values.endpoint, 'endpoint');
  if (values.aws) return { cloud: 'aws', tableName: need(values, 'table', '--aws'), client: cliAwsClient(DYNAMODB, { region: stringFlag(values.region), endpoint: stringFlag(values.endpoint) }) };
  if (values.aliyun) return { cloud: 'aliyun', tableName: need(values, 'table', '--aliyun'), client: tablestoreClient(values) };
  for (const flag of ['region', 'instance', 'table', 'inbox-table'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --aws or --aliyun`);
  }
  const endpoint = stringFlag(values.endpoint) ?? localDynamoDbEndpoint();
  return { cloud: 'local', endpoint, client: localDynamoDbClient(endpoint) };
}

function storeAt(at: Location): EventStore {
  if (at.cloud === 'aws') return new DynamoDbEventStore({ tableName: at.tableName, client: at.client });
  if (at.cloud === 'aliyun') return new TablestoreEventStore({ tableName: at.tableName, client: at.client });
  return new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client: at.client });
}

/** The event store the flags name. */
export function openStore(values: Flags): EventStore {
  return storeAt(locate(values));
}

/**
 * The event store the flags name, and beside it the recover inbox: on AWS `--inbox-table` (default:
 * the table's name with `-events` turned into `-recover-inbox`, as `serverless.aws.yml` names it),
 * on Alibaba Cloud `<table>_inbox`; locally the inbox of `npm start`, created if missing.
 */
export function openStoreAndInbox(values: Flags): { store: EventStore; inbox: RecoverInbox; ready: () => Promise<void> } {
  const at = locate(values);
  const store = storeAt(at);
  const inboxFlag = stringFlag(values['inbox-table']);
  if (at.cloud === 'aws') {
    const inboxTable = inboxFlag ?? AWS_TABLES.inboxOf(at.tableName);
    return { store, inbox: new DynamoDbInbox({ tableName: inboxTable ?? need(values, 'inbox-table', `--table ${at.tableName}`), client: at.client }), ready: async () => {} };
  }
  if (at.cloud === 'aliyun') return { store, inbox: new TablestoreInbox({ tableName: inboxFlag ?? ALIYUN_TABLES.inboxOf(at.tableName), client: at.client }), ready: async () => {} };
  return { store, inbox: new DynamoDbInbox({ tableName: LOCAL_INBOX_TABLE, client: at.client }), ready: () => ensureRecoverInboxTable(at.client, LOCAL_INBOX_TABLE) };
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
