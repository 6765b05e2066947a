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
