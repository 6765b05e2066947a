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

/**
 * What `recover` on this schedule costs in DingTalk server-API calls, as a deploy says it: a run
 * that finds nothing makes one failed-list call (gettoken is free), so as many calls as runs.
 */
export function recoverScheduleCost(schedule: string): string {
  const calls = runsPerMonth(schedule);
  if (calls === undefined) return `recover runs on ${schedule}: each run is one of the organisation's ${QUOTAS.apiCalls.standard.toLocaleString('en-US')} server-API calls a month (docs/recover.md)`;
  const share = Math.round((calls / QUOTAS.apiCalls.standard) * 100);
  const line = `recover runs ${schedule}: ${calls.toLocaleString('en-US')} failed-list calls a month, ${share}% of the standard edition's ${QUOTAS.apiCalls.standard.toLocaleString('en-US')} server-API calls (docs/recover.md)`;
  return calls > QUOTAS.apiCalls.standard ? `${line}; that is more than the whole quota: choose a longer interval (hourly is 720)` : line;
}
