import { request as forward, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsJsonClient } from '../providers/aws/aws-json-client';
import { DynamoDbEventStore } from '../providers/aws/dynamodb-store';
import { ensureEventTable } from '../providers/local/events-table';
import { localDynamoDbClient } from '../providers/local/local-dynamodb';
import { startTestDynamoDb, type TestDynamoDb } from './dynamodb';

/** How the proxy treats the requests it receives. */
export type ProxyMode =
  /** Pass every request to the upstream DynamoDB. */
  | 'up'
  /** Answer every request as DynamoDB does when a table's throughput is exceeded (HTTP 400). */
  | 'throttling'
  /** Accept every request and never answer it, as a store behind a network partition does. */
  | 'hanging';

/**
 * A real HTTP proxy in front of a local DynamoDB (dynalite), so that the real client meets the
 * failures dynalite cannot produce, over HTTP: throttling, a hang, and no listener at all.
 */
export interface DynamoDbProxy {
  /** `http://127.0.0.1:<port>`, stable across {@link DynamoDbProxy.unreachable} and {@link DynamoDbProxy.restore}. */
  readonly endpoint: string;
  /** How many requests each DynamoDB operation (`PutItem`, …) reached the proxy with, in any mode. */
  readonly requests: Map<string, number>;
  /**
   * How many items DynamoDB has read for the reads passed on so far, from its own answers: a
   * Query's or Scan's `ScannedCount` (items read before any filter), the items a GetItem or
   * BatchGetItem returned.
   */
  itemsRead(): number;
  /** From now on, answer `operation` as DynamoDB does a role not allowed it (HTTP 400, AccessDeniedException). */
  refuse(operation: string): void;
  /** From now on, treat requests this way (and drop the connections a hang holds). */
  set(mode: ProxyMode): void;
  /** Stop listening and drop every connection: connections are refused, as with DynamoDB out of reach. */
  unreachable(): Promise<void>;
  /** Listen again on the same port, passing requests on. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** DynamoDB's own answer to a throttled request (JSON 1.0 protocol). */
const THROTTLED = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
});

/** DynamoDB's answer to an operation the caller's role may not call. */
const accessDenied = (operation: string) =>
  JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: `User: arn:aws:iam::123456789012:user/reader is not authorized to perform: dynamodb:${operation}` });

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

/** The items a read's answer says DynamoDB read (0 for an error or an answer that is no JSON). */
function itemsIn(operation: string, body: Buffer): number {
  let answer: { ScannedCount?: number; Item?: unknown; Responses?: Record<string, unknown[]> };
  try {
    answer = JSON.parse(body.toString('utf8'));
  } catch {
    return 0;
  }
  if (operation === 'GetItem') return answer.Item ? 1 : 0;
  if (operation === 'BatchGetItem') return Object.values(answer.Responses ?? {}).reduce((sum, items) => sum + items.length, 0);
  return answer.ScannedCount ?? 0;
}

/** Starts a proxy to `upstream` (`http://host:port`) on a spare loopback port, passing requests on. */
export async function startDynamoDbProxy(upstream: string): Promise<DynamoDbProxy> {
  const target = new URL(upstream);
  const requests = new Map<string, number>();
  let itemsRead = 0;
  let mode: ProxyMode = 'up';
  const refused = new Set<string>();
  const server: Server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    requests.set(operation, (requests.get(operation) ?? 0) + 1);
    if (mode === 'hanging') return;
    if (mode === 'throttling' || refused.has(operation)) {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'REFUSED' }).end(mode === 'throttling' ? THROTTLED : accessDenied(operation));
      return;
    }
    const upstreamRequest = forward({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (!READS.has(operation)) return void answer.pipe(res);
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        itemsRead += itemsIn(operation, body);
        res.end(body);
      });
    });
    upstreamRequest.on('error', () => res.destroy());
    req.pipe(upstreamRequest);
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    itemsRead: () => itemsRead,
    refuse: (operation) => void refused.add(operation),
    set: (next) => {
      if (mode === 'hanging') server.closeAllConnections();
      mode = next;
    },
    unreachable: stop,
    restore: async () => {
      mode = 'up';
      await listen(port);
    },
    close: async () => {
      if (server.listening) await stop();
    },
  };
}

/** dynalite with an events table, the store reading it directly, and the functions' client reaching it through a proxy. */
export interface ProxiedDynamoDb {
  dynamo: TestDynamoDb;
  store: DynamoDbEventStore;
  proxy: DynamoDbProxy;
  /** The functions' client, through the proxy. */
  client: AwsJsonClient;
  close(): Promise<void>;
}

/** Starts dynalite with `table`, and a proxy before it that fails on demand (the outage tests' setup). */
export async function startProxiedDynamoDb(table: string): Promise<ProxiedDynamoDb> {
  const dynamo = await startTestDynamoDb();
  await ensureEventTable(dynamo.client, table);
  const store = new DynamoDbEventStore({ tableName: table, client: dynamo.client });
  const proxy = await startDynamoDbProxy(dynamo.endpoint);
  const client = localDynamoDbClient(proxy.endpoint);
  return {
    dynamo,
    store,
    proxy,
    client,
    close: async () => {
      client.destroy();
      await proxy.close();
      dynamo.client.destroy();
      await dynamo.server.close();
    },
  };
}
