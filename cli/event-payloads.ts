import { randomBytes, randomUUID } from 'node:crypto';
import { syncRow } from './sync-rows';

/** Every EventType of the table in docs/protocol.md ("Events"), by family, for `send --help` and the tests. */
export const EVENT_FAMILIES: Record<string, readonly string[]> = {
  contacts: ['user_add_org', 'user_modify_org', 'user_leave_org', 'user_active_org', 'org_admin_add', 'org_admin_remove', 'org_dept_create', 'org_dept_modify', 'org_dept_remove', 'org_remove', 'org_change', 'label_user_change', 'label_conf_add', 'label_conf_del', 'label_conf_modify'],
  approvals: ['bpms_instance_change', 'bpms_task_change'],
  attendance: ['attendance_check_record', 'attendance_schedule_change', 'attendance_overtime_duration'],
  isv: ['suite_ticket', 'tmp_auth_code', 'change_auth', 'suite_relieve', 'check_create_suite_url', 'check_update_suite_url', 'SYNC_HTTP_PUSH_HIGH', 'SYNC_HTTP_PUSH_MEDIUM'],
  chats: ['chat_add_member', 'chat_remove_member', 'chat_quit', 'chat_update_owner', 'chat_update_title', 'chat_disband', 'check_in'],
  checks: ['check_url'],
};

const NAMES = ['张三', '李四', '王五', '赵六', '钱七'];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const userId = () => `user${randomBytes(4).toString('hex')}`;

/**
 * A realistic payload for `eventType`, shaped as DingTalk sends that family (field names, string or
 * number timestamps, Chinese text). Each call is a fresh event: ids and times differ.
 * `corpId` goes where the family carries one; `records` sizes attendance pushes.
 */
export function samplePayload(eventType: string, corpId: string, records = 3): Record<string, unknown> {
  const now = Date.now();
  const TimeStamp = String(now);
  if (eventType === 'check_url') return { EventType: eventType };
  if (eventType.startsWith('check_') && eventType.endsWith('_suite_url')) {
    return { EventType: eventType, Random: randomBytes(6).toString('base64url'), TestSuiteKey: 'suite4xxxxxxxxxxxxxxx' };
  }
  if (eventType.startsWith('org_dept_')) return { EventType: eventType, TimeStamp, DeptId: [100000 + Math.floor(Math.random() * 900000)], CorpId: corpId };
  if (eventType.startsWith('user_') || eventType.startsWith('org_admin_')) {
    return { EventType: eventType, TimeStamp, UserId: [userId(), userId()], CorpId: corpId, OptStaffId: 'manager7212' };
  }
  if (eventType.startsWith('label_')) return { EventType: eventType, TimeStamp, CorpId: corpId, LabelIdList: [Math.floor(Math.random() * 1e9)], UserIdList: [userId()] };
  if (eventType === 'org_remove' || eventType === 'org_change') return { EventType: eventType, TimeStamp, CorpId: corpId };
  if (eventType.startsWith('bpms_')) {
    const name = pick(NAMES);
    return {
      EventType: eventType, processInstanceId: randomUUID(), corpId, createTime: now, staffId: userId(),
      title: `${name}提交的请假申请`, type: eventType === 'bpms_task_change' ? 'start' : 'finish', result: 'agree', remark: '同意，注意交接工作',
      processCode: 'PROC-FF6Y4BE1N2-B3OQZGC9RLR4SY1MTNLQ1-91IKFUAJ-4', bizCategoryId: '', businessId: String(now),
      ...(eventType === 'bpms_task_change' ? { taskId: now } : { finishTime: now, url: 'https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm' }),
    };
  }
  if (eventType.startsWith('attendance_')) {
    const DataList = Array.from({ length: records }, (_, i) => ({
      address: `杭州市余杭区文一西路${969 + i}号`, bizId: `${now}-${i}`, checkTime: now - i * 1000, corpId,
      deviceId: '', deviceName: '', locationMethod: 'MAP', userId: userId(),
    }));
    return { EventType: eventType, DataList };
  }
  if (eventType === 'SYNC_HTTP_PUSH_HIGH' || eventType === 'SYNC_HTTP_PUSH_MEDIUM') {
    // Authorisations by as many organisations (urgent), or as many new departments of one.
    const rows = Array.from({ length: records }, () => (eventType === 'SYNC_HTTP_PUSH_HIGH' ? syncRow('org_suite_auth', { corpId: `ding${randomBytes(8).toString('hex')}` }) : syncRow('org_dept_create', { corpId })));
    return { EventType: eventType, bizData: rows };
  }
  if (['suite_ticket', 'tmp_auth_code', 'change_auth', 'suite_relieve'].includes(eventType)) {
    return {
      EventType: eventType, SuiteKey: 'suitexvl6uynbsejmhpas', TimeStamp: now,
      ...(eventType === 'suite_ticket' ? { SuiteTicket: randomBytes(32).toString('base64url') } : { AuthCorpId: corpId }),
      ...(eventType === 'tmp_auth_code' ? { AuthCode: randomBytes(16).toString('hex') } : {}),
    };
  }
  if (eventType.startsWith('chat_')) {
    return { EventType: eventType, ChatId: `chat${randomBytes(8).toString('hex')}`, Operator: 'manager7212', UserId: [userId()], CorpId: corpId, TimeStamp: now, ...(eventType === 'chat_update_title' ? { Title: `${pick(NAMES)}的项目群` } : {}) };
  }
  return { EventType: eventType, eventId: randomBytes(16).toString('hex'), CorpId: corpId, TimeStamp: now };
}
