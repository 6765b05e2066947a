import { randomBytes } from 'node:crypto';

/**
 * SyncHTTP rows as DingTalk's documentation shows them (docs/isv.md): one business object's final
 * state, its data in `biz_data` as JSON text. For `send --sync` and the tests.
 */

/** The rows `send --sync` knows how to make, by `syncAction`. */
export const SYNC_ACTIONS = ['suite_ticket', 'org_suite_auth', 'org_suite_change', 'org_suite_relieve', 'org_dept_create', 'org_dept_modify', 'user_add_org'] as const;
export type SyncAction = (typeof SYNC_ACTIONS)[number];

/** The `biz_type` of each kind of row: 2 tickets, 4 authorisations, 13 users, 14 departments. */
const BIZ_TYPES: Record<SyncAction, number> = {
  suite_ticket: 2, org_suite_auth: 4, org_suite_change: 4, org_suite_relieve: 4, org_dept_create: 14, org_dept_modify: 14, user_add_org: 13,
};

/** Urgent rows (tickets, authorisations) come in `SYNC_HTTP_PUSH_HIGH`, the rest in `SYNC_HTTP_PUSH_MEDIUM`. */
export function pushTypeOf(action: SyncAction): 'SYNC_HTTP_PUSH_HIGH' | 'SYNC_HTTP_PUSH_MEDIUM' {
  return BIZ_TYPES[action] <= 4 ? 'SYNC_HTTP_PUSH_HIGH' : 'SYNC_HTTP_PUSH_MEDIUM';
}

export interface RowOptions {
  /** The suite's id (the number in `subscribe_id`, `<suiteId>_0`). */
  suiteId?: string;
  /** The organisation the row is about. */
  corpId?: string;
  /** `gmt_modified`, ms: the version of the object. Default now. */
  modified?: number;
  /** The business object's id (`biz_id`); default one per row. */
  bizId?: string;
  /** The ticket of a `suite_ticket` row; default a fresh one. */
  ticket?: string;
  /** Extra `biz_data` fields (an `eventId`, say). */
  data?: Record<string, unknown>;
  /** The row's auto-increment `id`. */
  id?: number;
}

let sequence = 0;

/** One row of kind `action`, fresh ids unless given. */
export function syncRow(action: SyncAction, options: RowOptions = {}): Record<string, unknown> {
  const suiteId = options.suiteId ?? '27001001';
  const corpId = options.corpId ?? 'ding9f50b15bccd16741';
  const modified = options.modified ?? Date.now();
  sequence += 1;
  const bizType = BIZ_TYPES[action];
  const data = { syncAction: action, ...dataOf(action, corpId, suiteId, options), syncSeq: String(modified) + String(sequence).padStart(4, '0'), ...options.data };
  return {
    id: options.id ?? 10_000 + sequence,
    gmt_create: modified,
    gmt_modified: modified,
    subscribe_id: `${suiteId}_0`,
    corp_id: corpId,
    biz_id: options.bizId ?? (bizType === 2 ? suiteId : bizType === 4 ? corpId : String(1_489_990_000 + sequence)),
    biz_type: bizType,
    biz_data: JSON.stringify(data),
    open_cursor: 0,
    status: 0,
  };
}

/** The decrypted message of a SyncHTTP push carrying `rows`. */
export function syncPush(rows: readonly Record<string, unknown>[], eventType: 'SYNC_HTTP_PUSH_HIGH' | 'SYNC_HTTP_PUSH_MEDIUM' = 'SYNC_HTTP_PUSH_HIGH'): string {
  return JSON.stringify({ EventType: eventType, bizData: rows });
}

function dataOf(action: SyncAction, corpId: string, suiteId: string, options: RowOptions): Record<string, unknown> {
  switch (action) {
    case 'suite_ticket':
      return { suiteTicket: options.ticket ?? randomBytes(24).toString('base64url'), suiteId };
    case 'org_suite_auth':
    case 'org_suite_change':
      return {
        auth_corp_info: { corpid: corpId, corp_name: '钉钉测试企业', industry: '互联网', is_authenticated: true, auth_level: 1 },
        auth_info: { agent: [{ agentid: 2_800_000_000 + (sequence % 1000), agent_name: '审批助手', appid: 1101, admin_list: ['manager7212'] }] },
        auth_user_info: { userId: 'manager7212' },
        permanent_code: randomBytes(24).toString('base64url'),
      };
    case 'org_suite_relieve':
      return { auth_corp_info: { corpid: corpId, corp_name: '钉钉测试企业' } };
    case 'org_dept_create':
    case 'org_dept_modify':
      return { id: 100_000 + sequence, name: '产品研发部', parentid: 1, order: 100, createDeptGroup: false, autoAddUser: true };
    case 'user_add_org':
      return { userid: `user${randomBytes(4).toString('hex')}`, name: '张三', department: [1], mobile: '', active: true };
  }
}
