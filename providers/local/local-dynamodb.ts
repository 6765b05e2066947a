import { LOCAL_TABLES } from '../../core/table-names';
import { AwsJsonClient, DYNAMODB } from '../aws/aws-json-client';
import { DynamoDbEventStore } from '../aws/dynamodb-store';
import { DynamoDbInbox } from '../aws/dynamodb-inbox';

/** The port `npm start` serves its embedded DynamoDB-compatible endpoint on, unless told otherwise. */
export const LOCAL_DYNAMODB_PORT = 8000;

/** The table `npm start` keeps the events in. */
export const LOCAL_TABLE_NAME = LOCAL_TABLES.events;

/** The table `npm start` and `dingtalk-callback recover` keep failed-list replies in until stored. */
export const LOCAL_INBOX_TABLE = LOCAL_TABLES.inbox;

/** The endpoint of the local store on `port`. */
export function localDynamoDbEndpoint(port = LOCAL_DYNAMODB_PORT): string {
  return `http://localhost:${port}`;
}

/**
 * What a client needs to talk to the local store: it signs every request, so it wants some
 * credentials, but the local server checks none; fixed ones keep a real account out of it.
 */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** The region the local store claims to be in. */
export const LOCAL_REGION = 'us-east-1';

/** The functions' own DynamoDB client (with its retries unless `maxAttempts` says otherwise) for a local endpoint. */
export function localDynamoDbClient(endpoint: string, maxAttempts?: number): AwsJsonClient {
  return new AwsJsonClient({ service: DYNAMODB, endpoint, region: LOCAL_REGION, credentials: LOCAL_AWS_CREDENTIALS, ...(maxAttempts && { maxAttempts }) });
}

/** The event store of a running `npm start` at `endpoint` (for the CLI and the tests). */
export function openLocalEventStore(endpoint = localDynamoDbEndpoint()): DynamoDbEventStore {
  return new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client: localDynamoDbClient(endpoint) });
}

/** The recover inbox of a running `npm start` at `endpoint`. */
export function openLocalInbox(endpoint = localDynamoDbEndpoint()): DynamoDbInbox {
  return new DynamoDbInbox({ tableName: LOCAL_INBOX_TABLE, client: localDynamoDbClient(endpoint) });
}
