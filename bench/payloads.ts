import { eventText } from '../testkit/fixtures';

/** A ~1 KB approval push with Chinese text: the typical DingTalk event; each `instance` is another approval. */
export function approvalPayload(instance = 0): string {
  return eventText('bpms_instance_change', {
    processInstanceId: `a171de6c-8bb1-4a3e-b2d4-${instance.toString(16).padStart(12, '0')}`,
    remark: '同意。请在休假前完成工作交接，并在钉钉上设置自动回复；如遇紧急情况请联系直属主管或人事部门。'.repeat(3),
    formValues: [{ name: '请假类型', value: '年假' }, { name: '开始时间', value: '2026-12-01 上午' }, { name: '结束时间', value: '2026-12-05 下午' }, { name: '请假事由', value: '回老家探亲，陪伴家人过节。' }],
  });
}

/** A ~20 KB attendance push: many check-in records in one event. */
export function attendancePayload(records = 90): string {
  const [first] = (JSON.parse(eventText('attendance_check_record')) as { DataList: Array<Record<string, unknown>> }).DataList;
  const DataList = Array.from({ length: records }, (_, i) => ({ ...first, bizId: `1005-${i}`, userId: `user${i}`, checkTime: 1_700_000_000_000 + i * 1000 }));
  return eventText('attendance_check_record', { DataList });
}
