import { expect } from 'chai';
import { DEADLINES_MS, latencyWarning, pushBudget } from '../../core/deadlines';
import { DEFAULT_RELAY_TIMING } from '../../core/stream-settings';

describe('DingTalk’s deadlines (core/deadlines.ts)', function () {
  it('holds 2.5 s for an HTTP push, 3 s for a Stream ack, 1.2 s for a URL check, 1.5 s for a legacy callback', function () {
    expect(DEADLINES_MS).to.deep.equal({ httpPush: 2500, stream: 3000, urlCheck: 1200, legacyCallback: 1500 });
    expect(DEFAULT_RELAY_TIMING.ackBudgetMs).to.equal(DEADLINES_MS.stream);
  });

  it('gives the URL checks their 1.2 s and every other push, SyncHTTP included, 2.5 s', function () {
    for (const check of ['check_url', 'check_create_suite_url', 'check_update_suite_url']) expect(pushBudget(check)).to.deep.equal({ ms: 1200, what: 'a URL check' });
    for (const push of ['bpms_instance_change', 'user_add_org', 'SYNC_HTTP_PUSH_HIGH', '']) expect(pushBudget(push).ms).to.equal(2500);
  });

  it('warns about an answer over its push’s budget, or over the legacy callback’s, and not otherwise', function () {
    expect(latencyWarning(1499, 'bpms_instance_change')).to.equal(undefined);
    expect(latencyWarning(1600, 'bpms_instance_change')).to.equal("1600 ms is within 2.5 s for an HTTP push, but over the 1.5 s a callback registered through the old API gets");
    expect(latencyWarning(2600, 'bpms_instance_change')).to.equal("2600 ms is over DingTalk's 2.5 s for an HTTP push: DingTalk would count it failed and push it again");
    expect(latencyWarning(1199, 'check_url')).to.equal(undefined);
    expect(latencyWarning(1250, 'check_url')).to.equal("1250 ms is over DingTalk's 1.2 s for a URL check: DingTalk would count it failed and push it again");
  });
});
