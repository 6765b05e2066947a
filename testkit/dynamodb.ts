import type { AwsJsonClient } from '../providers/aws/aws-json-client';
import { startDynamoDbServer, type DynamoDbServer } from '../providers/local/dynamodb-server';
import { localDynamoDbClient, localDynamoDbEndpoint } from '../providers/local/local-dynamodb';

/**
 * A put deadline for tests whose subject is not the deadline: dynalite shares the test process's
 * CPU, and on a busy machine a burst of puts can outlast DynamoDB's 1 s (npm start allows as much).
 */
export const GENEROUS_PUT_DEADLINE_MS = 10_000;

/** An in-memory dynalite on a spare port for one test file, and the functions' own client pointed at it. */
export interface TestDynamoDb {
  server: DynamoDbServer;
  endpoint: string;
  client: AwsJsonClient;
}

/** Starts an in-memory dynalite on a spare port; close `server` and destroy the client when done. */
export async function startTestDynamoDb(): Promise<TestDynamoDb> {
  const server = await startDynamoDbServer({ port: 0 });
  const endpoint = localDynamoDbEndpoint(server.port);
  return { server, endpoint, client: localDynamoDbClient(endpoint) };
}
