import type { EventStore } from '../core/listing';
import { DynamoDbEventStore } from '../providers/aws/dynamodb-store';
import { createTablestoreClient } from '../providers/aliyun/tablestore-client';
import { TablestoreEventStore } from '../providers/aliyun/tablestore-store';
import { localDynamoDbEndpoint, openLocalEventStore } from '../providers/local/local-dynamodb';
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
  if (values.aws && values.aliyun) throw new UsageError('choose one of --aws and --aliyun');
  if (values.aws) {
    return new DynamoDbEventStore({ tableName: need(values, 'table', '--aws'), region: stringFlag(values.region), endpoint: stringFlag(values.endpoint) });
  }
  if (values.aliyun) {
    const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    const secretAccessKey = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    if (!accessKeyId || !secretAccessKey) throw new UsageError('--aliyun reads ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, and one is not set');
    const client = createTablestoreClient({
      endpoint: need(values, 'endpoint', '--aliyun'),
      instance: need(values, 'instance', '--aliyun'),
      accessKeyId,
      secretAccessKey,
      securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined,
    });
    return new TablestoreEventStore({ tableName: need(values, 'table', '--aliyun'), client });
  }
  for (const flag of ['region', 'instance', 'table'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --aws or --aliyun`);
  }
  return openLocalEventStore(stringFlag(values.endpoint));
}

function need(values: Flags, flag: string, store: string): string {
  const value = stringFlag(values[flag]);
  if (!value) throw new UsageError(`${store} needs --${flag}`);
  return value;
}
