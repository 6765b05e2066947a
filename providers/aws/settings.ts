import { optionalWholeNumber, readAll, required, type Environment } from '../../core/environment';

/** Where and how the callback function writes its events on AWS (its endpoint: `awsEndpoint` of `aws-json-client.ts`). */
export interface DynamoDbWriterSettings {
  /** `EVENTS_TABLE`. */
  tableName: string;
  /** `DYNAMODB_PUT_DEADLINE_MS`; unset means the writer's default, `PUT_DEADLINE_MS` of `core/store.ts` (`npm start` allows more: docs/reliability.md). */
  putDeadlineMs?: number;
}

/** @throws ConfigError listing every variable that is missing or invalid. */
export function dynamoDbWriterSettings(env: Environment): DynamoDbWriterSettings {
  const [tableName, putDeadlineMs] = readAll(
    () => required(env, 'EVENTS_TABLE'),
    () => optionalWholeNumber(env, 'DYNAMODB_PUT_DEADLINE_MS', 1, 'milliseconds'),
  );
  return { tableName, putDeadlineMs };
}
