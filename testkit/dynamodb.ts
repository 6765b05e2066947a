import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbServer, type DynamoDbServer } from '../providers/local/dynamodb-server';
import { localDynamoDbClient, localDynamoDbEndpoint } from '../providers/local/local-dynamodb';

/** An in-memory dynalite on a spare port for one test file, and a real SDK client pointed at it. */
export interface TestDynamoDb {
  server: DynamoDbServer;
  endpoint: string;
  client: DynamoDBClient;
}

/** Starts an in-memory dynalite on a spare port; close `server` and destroy `client` when done. */
export async function startTestDynamoDb(): Promise<TestDynamoDb> {
  const server = await startDynamoDbServer({ port: 0 });
  const endpoint = localDynamoDbEndpoint(server.port);
  return { server, endpoint, client: localDynamoDbClient(endpoint) };
}
