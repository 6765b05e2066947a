import { expect } from 'chai';
import { LEASE_MARGIN_MS, leaseDeadline, leaseMs, STREAM_LEASES } from '../../core/stream-lease';

describe('core/stream-lease: how long a scheduled stream function holds the relay', function () {
  it('stops at the lease, or the margin before the platform limit when that comes first', function () {
    expect(leaseDeadline(1000, 60_000, 15 * 60_000)).to.equal(61_000);
    expect(leaseDeadline(1000, 60_000, 70_000)).to.equal(1000 + 70_000 - LEASE_MARGIN_MS);
    expect(leaseDeadline(1000, 60_000, LEASE_MARGIN_MS - 1)).to.equal(1000);
  });

  it('reads DINGTALK_STREAM_LEASE_SECONDS, else the cloud default, and refuses a lease under 10 s', function () {
    expect(leaseMs({ DINGTALK_STREAM_LEASE_SECONDS: '600' }, 840)).to.equal(600_000);
    expect(leaseMs({}, STREAM_LEASES.aws.leaseSeconds)).to.equal(840_000);
    expect(() => leaseMs({ DINGTALK_STREAM_LEASE_SECONDS: '9' }, 840)).to.throw('DINGTALK_STREAM_LEASE_SECONDS: must be a whole number of seconds, 10 or more');
  });

  it('each cloud: the lease ends before the platform limit, the margin included, and outlasts the schedule', function () {
    for (const { leaseSeconds, everySeconds, timeoutSeconds } of Object.values(STREAM_LEASES)) {
      expect(leaseSeconds * 1000 + LEASE_MARGIN_MS).to.be.at.most(timeoutSeconds * 1000);
      expect(leaseSeconds).to.be.above(everySeconds);
    }
  });
});
