import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbServer, type DynamoDbServer } from '../providers/local/dynamodb-server';
import { localDynamoDbClient, localDynamoDbEndpoint, localDynamoDbPutClient } from '../providers/local/local-dynamodb';

/**
 * A put deadline for tests whose subject is not the deadline: dynalite shares the test process's
 * CPU, and on a busy machine a burst of puts can outlast DynamoDB's 1 s (npm start allows as much).
 */
export const GENEROUS_PUT_DEADLINE_MS = 10_000;

/** An in-memory dynalite on a spare port for one test file, and real clients pointed at it. */
export interface TestDynamoDb {
  server: DynamoDbServer;
  endpoint: string;
  /** The SDK v3 client, as the tools use it. */
  client: DynamoDBClient;
  /** The function's own client, as the Lambda handler uses it. */
  putClient: ReturnType<typeof localDynamoDbPutClient>;
}

/** Starts an in-memory dynalite on a spare port; close `server` and destroy the clients when done. */
export async function startTestDynamoDb(): Promise<TestDynamoDb> {
  const server = await startDynamoDbServer({ port: 0 });
  const endpoint = localDynamoDbEndpoint(server.port);
  return { server, endpoint, client: localDynamoDbClient(endpoint), putClient: localDynamoDbPutClient(endpoint) };
}
