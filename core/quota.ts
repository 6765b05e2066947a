import { HANDSHAKES } from './events';

/**
 * DingTalk's monthly quotas (docs/protocol.md, "Quotas"), per organisation and calendar month since
 * 2025-11-19: the standard edition's, and the paid add-on's.
 */
export const QUOTAS = {
  /** Webhook (HTTP) and Stream pushes. */
  pushes: { standard: 3000, addOn: 500_000 },
  /** Server-API calls (gettoken is free; the failed-list calls count). */
  apiCalls: { standard: 5000, addOn: 5_000_000 },
} as const;

/**
 * The event types DingTalk does not count against the push quota: its published list of contact-list
 * (通讯录) events (2026-04), and the URL checks, which are never stored. The one place this list lives.
 */
export const QUOTA_EXEMPT_TYPES: ReadonlySet<string> = new Set([
  'user_add_org',
  'user_modify_org',
  'user_leave_org',
  'user_active_org',
  'org_dept_create',
  'org_dept_modify',
  'org_dept_remove',
  'org_change',
  'label_user_change',
  'label_conf_add',
  'label_conf_del',
  'label_conf_modify',
  'org_admin_add',
  'org_admin_remove',
  'industry_medical_user_add',
  'org_annual_certification_submission',
  'industry_medical_dept_event',
  'industry_medical_dept_prop_event',
  'industry_medical_user_prop_event',
  'industry_medical_user_dept_event',
  'industry_medical_full_sync',
  ...HANDSHAKES,
]);

/** Whether an event of this type counts against the month's push quota. */
export function countsAgainstPushQuota(eventType: string): boolean {
  return !QUOTA_EXEMPT_TYPES.has(eventType);
}

const UNIT_MINUTES: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };
const EVERY_PART = /(\d+)(h|m|s)/g;
const MONTH_MINUTES = 30 * 1440;

/**
 * How often a schedule runs in a 30-day month: AWS's `rate(N minutes|hours|days)` or Function
 * Compute's `@every 1h30m`; `undefined` for a cron expression (or anything else), which has no rate.
 */
export function runsPerMonth(schedule: string): number | undefined {
  const text = schedule.trim();
  const rate = /^rate\((\d+) (\w+)\)$/.exec(text);
  let minutes: number | undefined;
  if (rate) minutes = UNIT_MINUTES[rate[2]!] === undefined ? undefined : Number(rate[1]) * UNIT_MINUTES[rate[2]!]!;
  const every = /^@every ((?:\d+[hms])+)$/.exec(text);
  if (every) minutes = [...every[1]!.matchAll(EVERY_PART)].reduce((sum, [, count, unit]) => sum + Number(count) * (unit === 'h' ? 60 : unit === 's' ? 1 / 60 : 1), 0);
  return minutes && minutes > 0 ? Math.round(MONTH_MINUTES / minutes) : undefined;
}

/** The schedules of a deployment's functions that call DingTalk's server API: absent when off. */
export interface DeploymentSchedules {
  /** `recover`'s: one failed-list call a run that finds nothing (gettoken is free). */
  recover?: string;
  /** The `stream` function's: one `connections/open` a run (a lease). */
  stream?: string;
}

/** A deployment's scheduled DingTalk server-API calls in a 30-day month. */
export interface ScheduledApiCalls {
  /** recover's failed-list calls: 0 when off, `undefined` when its schedule has no rate (a cron expression). */
  recover: number | undefined;
  /**
   * The stream function's `connections/open` calls, likewise. Whether DingTalk counts them is not
   * documented: they are counted, as if it does (docs/stream.md).
   */
  streamOpens: number | undefined;
  /** The sum of those with a rate. */
  total: number;
  /** `total` in per cent of the standard edition's 5,000, rounded. */
  share: number;
}

/** What a deployment's enabled schedules spend of the organisation's server-API calls a month. */
export function scheduledApiCalls(schedules: DeploymentSchedules): ScheduledApiCalls {
  const calls = (schedule: string | undefined) => (schedule === undefined ? 0 : runsPerMonth(schedule));
  const recover = calls(schedules.recover);
  const streamOpens = calls(schedules.stream);
  const total = (recover ?? 0) + (streamOpens ?? 0);
  return { recover, streamOpens, total, share: Math.round((total / QUOTAS.apiCalls.standard) * 100) };
}

/** The setting that turns a function's schedule on or off, as each cloud's deploy takes it. */
function switchOf(cloud: 'aws' | 'aliyun', fn: 'recover' | 'stream', on: boolean): string {
  return cloud === 'aws' ? `--param="${fn}Enabled=${on}"` : `DINGTALK_${fn.toUpperCase()}_ENABLED=${on}`;
}

const number = (value: number) => value.toLocaleString('en-US');

/**
 * What a package or deploy says of its schedules, from {@link scheduledApiCalls}: the total and its
 * share of the standard quota, a line per function, and, past half the quota, what to do.
 */
export function scheduledApiCallsReport(cloud: 'aws' | 'aliyun', schedules: DeploymentSchedules): string[] {
  const calls = scheduledApiCalls(schedules);
  const quota = QUOTAS.apiCalls.standard;
  const each = (count: number | undefined, call: string) => (count === undefined ? `one ${call} a run (a cron expression: not in the total)` : `${number(count)} ${call}s`);
  const lines = [
    `DingTalk server-API calls a month on these schedules: ${number(calls.total)}, ${calls.share}% of the standard edition's ${number(quota)} (docs/recover.md, docs/stream.md)`,
    schedules.recover === undefined
      ? "  recover: off, so DingTalk's failed list is not pulled; `dingtalk-callback recover` pulls it by hand"
      : `  recover ${schedules.recover}: ${each(calls.recover, 'failed-list call')}`,
    schedules.stream === undefined
      ? `  stream: off, so no DingTalk Stream connection is held and an app in Stream mode receives nothing here (${switchOf(cloud, 'stream', true)} holds one)`
      : `  stream ${schedules.stream}: ${each(calls.streamOpens, 'connections/open call')}, counted as DingTalk may count them`,
  ];
  if (calls.total <= quota / 2) return lines;
  const over = calls.total > quota ? "that is more than the whole quota, and DingTalk refuses the organisation's calls once it is spent" : "that is more than half the quota, which the organisation's other integrations share";
  if (schedules.recover !== undefined && schedules.stream !== undefined) {
    lines.push(
      `  ${over}. An app receives its events one way: in HTTP push mode it needs no Stream relay (${switchOf(cloud, 'stream', false)}); ` +
        `in Stream mode DingTalk's failed list holds nothing for recover to fetch (${switchOf(cloud, 'recover', false)})`,
    );
  } else if (schedules.recover !== undefined) {
    lines.push(`  ${over}: choose a longer recover interval (hourly is 720)`);
  } else {
    lines.push(`  ${over}: each run of the stream function opens one connection, so fewer, longer leases open fewer (docs/stream.md)`);
  }
  return lines;
}
