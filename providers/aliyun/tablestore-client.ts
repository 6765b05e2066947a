import TableStore from 'tablestore';
import { TablestorePutClient, type TablestoreClientOptions } from './tablestore-put-client';

export type { TablestoreClientOptions };

/**
 * Builds a `tablestore` SDK client, for the reads, the inbox, the dead letters and the deploy's
 * tables (the events are written through {@link TablestorePutClient}). Failed reads are retried
 * twice at most (the SDK's default is 20, up to 3 s apart, far beyond DingTalk's 2.5 s for a push);
 * the SDK keeps that number process-wide. A request waits 5 s at most: the SDK has no timeout of
 * its own, so without one a hung connection would hold its request forever.
 */
export function createTablestoreClient(options: TablestoreClientOptions): TableStore.Client {
  return new TableStore.Client({
    endpoint: options.endpoint,
    instancename: options.instance,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    stsToken: options.securityToken,
    maxRetries: 2,
    httpOptions: { timeout: 5000 },
  });
}

/**
 * A PutRow client at the instance, with the keys, of an SDK client: the store writes through it as
 * the functions do, and reads through the SDK.
 */
export function putClientOf(client: TableStore.Client): TablestorePutClient {
  const { endpoint, instancename, accessKeyId, secretAccessKey, stsToken } = client.config;
  return new TablestorePutClient({ endpoint, instance: instancename, accessKeyId, secretAccessKey, ...(stsToken && { securityToken: stsToken }) });
}
