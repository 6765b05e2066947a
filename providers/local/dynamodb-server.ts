import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** A running embedded DynamoDB-compatible server. */
export interface DynamoDbServer {
  /** The port it listens on (useful when asked for port 0). */
  port: number;
  /** Stops it, closing its LevelDB store so the data is on disk. */
  close(): Promise<void>;
}

/**
 * Starts dynalite on `127.0.0.1:port`, keeping its data in `dataDir` (in memory when omitted).
 * Tables are ready the moment they are created, unlike on AWS.
 */
export async function startDynamoDbServer({ port, dataDir }: { port: number; dataDir?: string }): Promise<DynamoDbServer> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({ ...(dataDir && { path: dataDir }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
