import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** A running embedded DynamoDB-compatible server. */
export interface DynamoDbServer {
  /** The port it listens on (useful when asked for port 0). */
  port: number;
  /** Stops it, closing its LevelDB store so the data is on disk. */
  close(): Promise<void>;
}

/** An item a `PutItem` wrote, in the JSON form of the API (binary attributes as base64). */
export type PutItemListener = (tableName: string, item: Record<string, Record<string, unknown>>) => void;

/**
 * Starts dynalite on `127.0.0.1:port`, keeping its data in `dataDir` (in memory when omitted).
 * Tables take no time to create (`createTableMs: 0`), though a new one is CREATING until dynalite's
 * next write to its store (`events-table.ts` waits for ACTIVE). dynalite has no streams: `onPut`
 * hears each `PutItem` that succeeded, which is what `npm start` builds its stream from.
 */
export async function startDynamoDbServer({ port, dataDir, onPut }: { port: number; dataDir?: string; onPut?: PutItemListener }): Promise<DynamoDbServer> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({ ...(dataDir && { path: dataDir }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  if (onPut) listenForPuts(server, onPut);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Reads along each `PutItem` request dynalite serves, and calls `onPut` once it has answered 200. */
function listenForPuts(server: Server, onPut: PutItemListener): void {
  const [serve] = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  if (!serve) return;
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers['x-amz-target'] === 'DynamoDB_20120810.PutItem') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('finish', () => {
        if (response.statusCode !== 200) return;
        const { TableName, Item } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { TableName: string; Item: Record<string, Record<string, unknown>> };
        onPut(TableName, Item);
      });
    }
    serve(request, response);
  });
}
