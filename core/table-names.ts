/**
 * The tables' default names, in one place: `serverless.aws.yml` and `serverless.aliyun.yml` spell
 * the same names in their own syntax (test/delivery/table-names.test.ts holds them to these), and
 * the CLI, the Alibaba deploy and functions, `npm start` and the docs take them from here.
 */

/** The service name both configurations deploy under. */
export const SERVICE = 'dingtalk-callback';

/** On AWS: DynamoDB allows `-` in names; one table of each per stage. */
export const AWS_TABLES = {
  /** `dingtalk-callback-<stage>-events`. */
  events: (stage: string) => `${SERVICE}-${stage}-events`,
  /** `dingtalk-callback-<stage>-recover-inbox`. */
  inbox: (stage: string) => `${SERVICE}-${stage}-recover-inbox`,
  /** The inbox beside an events table named as the deploy names it; undefined for another name. */
  inboxOf: (eventsTable: string) => (eventsTable.endsWith('-events') ? eventsTable.replace(/-events$/, '-recover-inbox') : undefined),
};

/** On Alibaba Cloud: Tablestore names allow letters, digits and `_` only. */
export const ALIYUN_TABLES = {
  /** `dingtalk_callback_<stage>_events`. */
  events: (stage: string) => `${SERVICE.replace(/-/g, '_')}_${stage}_events`,
  /** `<events>_inbox`. */
  inboxOf: (eventsTable: string) => `${eventsTable}_inbox`,
  /** `<events>_dead_letters`. */
  deadLettersOf: (eventsTable: string) => `${eventsTable}_dead_letters`,
  /** `<events>_by_type`: the events table's index by type, which recover also reads (the suite ticket). */
  typeIndexOf: (eventsTable: string) => `${eventsTable}_by_type`,
};

/** Under `npm start`: one local store, no stage. */
export const LOCAL_TABLES = {
  events: `${SERVICE}-events`,
  inbox: `${SERVICE}-recover-inbox`,
};
