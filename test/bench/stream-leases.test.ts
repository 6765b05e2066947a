import { expect } from 'chai';
import { simulateLeases } from '../../bench/stream-leases';
import { STREAM_LEASES } from '../../core/stream-lease';

describe('bench/stream-leases: the simulated day of scheduled relays', function () {
  it('finds no moment without a connection under the default lease and schedule of either cloud, over a simulated year', function () {
    for (const cloud of ['aws', 'aliyun'] as const) expect(simulateLeases(cloud, 365).longestGapS, cloud).to.equal(0);
  });

  it('finds the gaps a lease no longer than its schedule leaves: start jitter opens them', function () {
    const { everySeconds, timeoutSeconds } = STREAM_LEASES.aws;
    expect(simulateLeases('aws', 1, 22, { leaseSeconds: everySeconds, everySeconds, timeoutSeconds }).longestGapS).to.be.above(10);
  });

  it('counts the month as docs/stream.md does: opens, seconds, GB-seconds and cost', function () {
    expect(simulateLeases('aws')).to.include({ opensPerMonth: 3600, computeSecondsPerMonth: 3_024_000, gbSecondsPerMonth: 378_000, costPerMonth: 5.04 });
    expect(simulateLeases('aliyun')).to.include({ opensPerMonth: 720, computeSecondsPerMonth: 2_808_000, gbSecondsPerMonth: 351_000, costPerMonth: 38.82 });
  });
});
