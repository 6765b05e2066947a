import { optionalWholeNumber, readAll, required, type Environment } from '../../core/environment';

/** Where the events table is: `EVENTS_TABLE` in the instance `TABLESTORE_INSTANCE` at `TABLESTORE_ENDPOINT`. */
export interface TablestoreLocation {
  tableName: string;
  /** For example `https://my-instance.cn-hangzhou.ots.aliyuncs.com`. */
  endpoint: string;
  instance: string;
}

/** Where and how the callback function writes its events on Alibaba Cloud. */
export interface TablestoreWriterSettings extends TablestoreLocation {
  /** `TABLESTORE_PUT_DEADLINE_MS`; unset means the writer's default, `PUT_DEADLINE_MS` of `core/store.ts`. */
  putDeadlineMs?: number;
}

/** @throws ConfigError listing every one of the three variables that is not set. */
export function tablestoreLocation(env: Environment): TablestoreLocation {
  const [tableName, endpoint, instance] = readAll(
    () => required(env, 'EVENTS_TABLE'),
    () => required(env, 'TABLESTORE_ENDPOINT'),
    () => required(env, 'TABLESTORE_INSTANCE'),
  );
  return { tableName, endpoint, instance };
}

/** @throws ConfigError listing every variable that is missing or invalid. */
export function tablestoreWriterSettings(env: Environment): TablestoreWriterSettings {
  const [location, putDeadlineMs] = readAll(
    () => tablestoreLocation(env),
    () => optionalWholeNumber(env, 'TABLESTORE_PUT_DEADLINE_MS', 1, 'milliseconds'),
  );
  return { ...location, putDeadlineMs };
}
