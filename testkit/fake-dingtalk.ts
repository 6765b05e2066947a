import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { DingTalkSandbox, type FailedListItem } from '../providers/local/dingtalk-sandbox';

export type { FailedListItem, RegisteredCallback, SuiteRecord } from '../providers/local/dingtalk-sandbox';

/**
 * The local stand-in for DingTalk's server API (`providers/local/dingtalk-sandbox.ts`, which
 * `npm start` runs with `DINGTALK_SANDBOX=true`), with an app of its own and what a test needs
 * beside it: any call failing on demand, and a hostile DingTalk.
 */

/**
 * How a call fails: HTTP 500, DingTalk's "busy" errcode -1, or no answer at all; or, hostile, a
 * failed-list page cut short (HTTP 200, the first half of its JSON: its items deleted all the same),
 * or an empty failed list that says `has_more: true`.
 */
export type FakeFault = 'http500' | 'errcode' | 'hang' | 'truncated' | 'empty-has-more';

export class FakeDingTalk extends DingTalkSandbox {
  override appKey = 'dingfakeappkey00001';
  override appSecret = `fake-app-secret-${randomBytes(8).toString('hex')}`;
  override corpId = 'dingfakecorp0000001';
  override suiteKey = 'suitefake0000000001';
  override suiteSecret = `fake-suite-secret-${randomBytes(8).toString('hex')}`;
  /** Hostile: serve the same items again and again, never deleting what was returned. */
  forgetsNothing = false;
  /** The `expires_in` gettoken states, when it should say other than the real lifetime (a hostile `0`). */
  statedLifetimeSeconds?: number;
  /** The errmsg of the 'errcode' fault (DingTalk's "busy"). */
  busyMessage = '系统繁忙';
  private readonly faults = new Map<string, { fault: FakeFault; times: number; after: number }>();

  /**
   * `times` calls of `path` (such as `call_back/get_call_back_failed_result`) fail this way, after
   * `after` more calls are answered normally.
   */
  fail(path: string, fault: FakeFault, times = 1, after = 0): void {
    this.faults.set(path, { fault, times, after });
  }

  protected override async respond(response: ServerResponse, path: string, query: Record<string, string>, body: Record<string, unknown>): Promise<void> {
    const fault = this.faults.get(path);
    if (fault && fault.after > 0) fault.after -= 1;
    else if (fault && fault.times > 0) {
      fault.times -= 1;
      if (fault.fault === 'hang') return; // never answered; stop() drops the connection
      if (fault.fault === 'http500') {
        response.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>500 Internal Server Error</body></html>');
        return;
      }
      if (fault.fault === 'truncated') {
        const whole = JSON.stringify(await this.answer(path, query, body));
        return this.reply(response, whole.slice(0, Math.floor(whole.length / 2)), path);
      }
      if (fault.fault === 'empty-has-more') return this.reply(response, { errcode: 0, errmsg: 'ok', has_more: true, failed_list: [] }, path);
      return this.reply(response, { errcode: -1, errmsg: this.busyMessage }, path);
    }
    return super.respond(response, path, query, body);
  }

  protected override statedLifetime(): number {
    return this.statedLifetimeSeconds ?? this.tokenLifetimeSeconds;
  }

  protected override takeFailed(): FailedListItem[] {
    return this.forgetsNothing ? this.failed.slice(0, this.pageSize) : super.takeFailed();
  }
}
const TITLES = ['张三提交的请假申请 🌴', '李四提交的报销申请 💰', '王五提交的出差申请 ✈️', '赵六提交的采购申请 📦'];

/** A corp failed-list item of an approval, as DingTalk documents it (`bpmsCallBackData`), Chinese and emoji included. */
export function approvalItem(n: number, corpId: string, eventTime = 1_764_000_000_000 + n * 1000): FailedListItem {
  return {
    call_back_tag: 'bpms_instance_change',
    event_time: eventTime,
    bpms_instance_change: {
      corpid: corpId,
      bpmsCallBackData: {
        processInstanceId: `proc-${String(n).padStart(6, '0')}`,
        corpId,
        createTime: eventTime - 60_000,
        finishTime: eventTime,
        title: TITLES[n % TITLES.length],
        type: 'finish',
        staffId: `user${n}`,
        result: 'agree',
        remark: '同意，注意交接工作 👍',
        processCode: 'PROC-FF6Y4BE1N2-B3OQZGC9RLR4SY1MTNLQ1-91IKFUAJ-4',
        EventType: 'bpms_instance_change',
      },
    },
  };
}

/** A corp failed-list item of a contact change (the event's own fields beside `corpid`). */
export function contactItem(n: number, corpId: string, eventTime = 1_764_000_000_000 + n * 1000): FailedListItem {
  return { call_back_tag: 'user_add_org', event_time: eventTime, user_add_org: { corpid: corpId, userid: [`user${n}`], 姓名: '钱七' } };
}

/** A corp failed-list item whose data carries DingTalk's own `eventId`, as newer events do. */
export function eventIdItem(eventId: string, corpId: string, eventTime = 1_764_000_000_000): FailedListItem {
  return { call_back_tag: 'org_dept_create', event_time: eventTime, org_dept_create: { corpid: corpId, eventId, DeptId: [4096], 名称: '研发部 🚀' } };
}
