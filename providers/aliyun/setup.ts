import type TableStore from 'tablestore';
import { createCallback, type Callback } from '../../core/callback';
import { readAll, required, type Environment } from '../../core/environment';
import { createForwarder, type Forwarder, type ForwarderOptions } from '../../core/forward';
import { forwardSinks, loadForwardSettings } from '../../core/forward-settings';
import type { Logger } from '../../core/log';
import { loadRecoverSettings } from '../../core/recover';
import type { RecoverRun } from '../../core/recover-run';
import { loadSettings } from '../../core/settings';
import { leaseMs, STREAM_LEASES, type StreamRun } from '../../core/stream-lease';
import { wsConnect } from '../../core/stream-relay';
import { loadStreamSettings } from '../../core/stream-settings';
import { ALIYUN_TABLES } from '../../core/table-names';
import { keptPerRoleKeys, type RoleKeys } from './function-compute';
import { tablestoreLocation, tablestoreWriterSettings } from './settings';
import { createTablestoreClient, type TablestoreClientOptions } from './tablestore-client';
import { TablestorePutClient } from './tablestore-put-client';
import { tablestoreDeadLetter } from './tablestore-dead-letter';
import { TablestoreInbox } from './tablestore-inbox';
import { TablestoreEventStore } from './tablestore-store';
import { TablestoreEventWriter } from './tablestore-writer';

/**
 * How each Alibaba Cloud function is set up: its settings, read once per instance with every bad one
 * named at once, and its clients, made from each invocation's role keys and kept until they rotate.
 * The three handlers call these at their first invocation; tests hand them their own clients.
 */

/** The clients a function may be handed instead of making its own. */
export interface AliyunClients {
  /** Makes a Tablestore SDK client (recover and forward) from the invocation's role keys. Default: `createTablestoreClient`. */
  tablestore?: (options: TablestoreClientOptions) => TableStore.Client;
  /** Makes the PutRow client the callback and stream functions write with. Default: `new TablestorePutClient`. */
  tablestorePut?: (options: TablestoreClientOptions) => TablestorePutClient;
}

/** What a function builds for one set of the role's keys. */
export type PerRoleKeys<T> = (keys: RoleKeys) => T;

/** A Tablestore SDK client for the role's keys, at the instance of the settings. */
function connector(clients: AliyunClients, at: { endpoint: string; instance: string }): (keys: RoleKeys) => TableStore.Client {
  const make = clients.tablestore ?? createTablestoreClient;
  return ({ accessKeyId, accessKeySecret, securityToken }) => make({ ...at, accessKeyId, secretAccessKey: accessKeySecret, securityToken });
}

/**
 * A PutRow client for the role's keys, at the instance of the settings: the callback and the
 * stream function only ever put, and their bundles then never run the SDK (docs/performance.md).
 */
function putConnector(clients: AliyunClients, at: { endpoint: string; instance: string }): (keys: RoleKeys) => TablestorePutClient {
  const make = clients.tablestorePut ?? ((options: TablestoreClientOptions) => new TablestorePutClient(options));
  return ({ accessKeyId, accessKeySecret, securityToken }) => make({ ...at, accessKeyId, secretAccessKey: accessKeySecret, ...(securityToken && { securityToken }) });
}

/**
 * The callback: the DingTalk settings and the Tablestore writer's (`providers/aliyun/settings.ts`),
 * and a pipeline per set of role keys.
 * @throws ConfigError naming every variable that is missing or invalid.
 */
export function callbackSetup(env: Environment, clients: AliyunClients, log: Logger): PerRoleKeys<Callback> {
  const [settings, { tableName, endpoint, instance, putDeadlineMs }] = readAll(() => loadSettings(env), () => tablestoreWriterSettings(env));
  const connect = putConnector(clients, { endpoint, instance });
  return keptPerRoleKeys((keys) => createCallback({ settings, store: new TablestoreEventWriter({ tableName, client: connect(keys), putDeadlineMs }), log }));
}

/**
 * Recover: the app's (or suite's) settings, the events table and the inbox table
 * (`RECOVER_INBOX_TABLE`), and a run per set of role keys; the access token outlives the keys.
 * @throws ConfigError naming every variable that is missing or invalid.
 */
export function recoverSetup(env: Environment, clients: AliyunClients): PerRoleKeys<RecoverRun> {
  const [settings, { tableName, endpoint, instance }, inboxTable] = readAll(() => loadRecoverSettings(env), () => tablestoreLocation(env), () => required(env, 'RECOVER_INBOX_TABLE'));
  const connect = connector(clients, { endpoint, instance });
  return keptPerRoleKeys((keys, previous: RecoverRun | undefined): RecoverRun => {
    const client = connect(keys);
    return { settings, store: new TablestoreEventStore({ tableName, client }), inbox: new TablestoreInbox({ tableName: inboxTable, client }), token: previous?.token };
  });
}

/**
 * The `stream` function: the app's (or suite's) key and secret, the Tablestore writer's settings and
 * the lease (`DINGTALK_STREAM_LEASE_SECONDS`), and a run per set of role keys (the relay writes
 * through the keys of the invocation that holds it).
 * @throws ConfigError naming every variable that is missing or invalid.
 */
export async function streamSetup(env: Environment, clients: AliyunClients): Promise<PerRoleKeys<StreamRun>> {
  const [settings, { tableName, endpoint, instance, putDeadlineMs }, lease] = readAll(
    () => loadStreamSettings(env),
    () => tablestoreWriterSettings(env),
    () => leaseMs(env, STREAM_LEASES.aliyun.leaseSeconds),
  );
  const connect = putConnector(clients, { endpoint, instance });
  // Imported here, not at the top: a module-level import would put `ws` in every function's bundle
  // and run it at each cold start, ~20 ms of CPU for the callback, which never opens a socket.
  const socket = wsConnect((await import('ws')).default);
  return keptPerRoleKeys((keys) => ({ settings, writer: new TablestoreEventWriter({ tableName, client: connect(keys), putDeadlineMs }), connect: socket, leaseMs: lease }));
}

/**
 * Forward: the sinks (a webhook; there is no event bus on Alibaba Cloud) and the dead-letter table
 * (`DINGTALK_DEAD_LETTER_TABLE`, default `<EVENTS_TABLE>_dead_letters`), and a forwarder per set of
 * role keys; undefined when no sink is set, and the function forwards nothing.
 * @throws ConfigError naming every variable that is missing or invalid.
 */
export function forwardSetup(env: Environment, clients: AliyunClients, options: Pick<ForwarderOptions, 'retry' | 'log'>): PerRoleKeys<Forwarder> | undefined {
  const [settings, location] = readAll(() => loadForwardSettings(env), () => tablestoreLocation(env));
  const sinks = forwardSinks(settings);
  if (sinks.length === 0) return undefined;
  const connect = connector(clients, location);
  const deadLetterTable = env.DINGTALK_DEAD_LETTER_TABLE?.trim() || ALIYUN_TABLES.deadLettersOf(location.tableName);
  return keptPerRoleKeys((keys) => createForwarder({ sinks, deadLetter: tablestoreDeadLetter({ client: connect(keys), tableName: deadLetterTable }), types: settings.types, ...options }));
}
