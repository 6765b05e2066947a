import { LEASE_MARGIN_MS, STREAM_LEASES } from '../core/stream-lease';

/**
 * A simulated day of the scheduled `stream` function on each cloud, with the default lease and
 * schedule: no real time passes. Each start lands late by the scheduler's jitter, then the cold
 * start and the `connections/open` call; each connection ends at its lease (or the margin before
 * the platform's limit). What the bench reports: the longest moment with no connection open, and the
 * month's opens, compute seconds and cost (docs/stream.md shows the same arithmetic).
 */

/** How late a start can be, in ms: the scheduler's own jitter, the cold start, the open call and handshake. */
export const START_JITTER_MS = {
  /** EventBridge fires a scheduled rule within about a minute of its time. */
  aws: { scheduler: 60_000, coldStart: 2_000, open: 1_500 },
  /** Function Compute's timer fires within seconds; its cold start is slower with the Tablestore SDK. */
  aliyun: { scheduler: 30_000, coldStart: 3_000, open: 1_500 },
} as const;

/** Price per GB-second of compute, and the memory each cloud's function is given (serverless.<cloud>.yml). */
export const PRICING = {
  aws: { perGbSecond: 0.0000133334, currency: '$', memoryGb: 128 / 1024, note: 'Lambda arm64, us-east-1' },
  aliyun: { perGbSecond: 0.000110592, currency: '¥', memoryGb: 128 / 1024, note: 'Function Compute 2.0 pay-as-you-go, China mainland' },
} as const;

export type Cloud = keyof typeof STREAM_LEASES;

/** What one simulated run of a cloud's schedule gives. */
export interface LeaseSimulation {
  cloud: Cloud;
  /** Simulated days. */
  days: number;
  /** The longest stretch with no connection open, in seconds (0: always one open). */
  longestGapS: number;
  opensPerMonth: number;
  computeSecondsPerMonth: number;
  gbSecondsPerMonth: number;
  costPerMonth: number;
}

const DAY_MS = 86_400_000;
const MONTH_DAYS = 30;

/** A small seeded generator (mulberry32), so a run is repeatable. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Simulates `days` of the cloud's schedule (by default its default one), from a start well before the first counted moment. */
export function simulateLeases(cloud: Cloud, days = 1, seed = 22, schedule: { leaseSeconds: number; everySeconds: number; timeoutSeconds: number } = STREAM_LEASES[cloud]): LeaseSimulation {
  const { leaseSeconds, everySeconds, timeoutSeconds } = schedule;
  const jitter = START_JITTER_MS[cloud];
  const random = seeded(seed);
  const every = everySeconds * 1000;
  const end = days * DAY_MS;
  const intervals: Array<[number, number]> = [];
  let busyMs = 0;
  for (let scheduled = -2 * every; scheduled < end; scheduled += every) {
    const invoked = scheduled + random() * jitter.scheduler;
    const connected = invoked + random() * jitter.coldStart + random() * jitter.open;
    // The handler's deadline: the lease from its start, or the margin before the platform's limit.
    const deadline = invoked + Math.min(leaseSeconds * 1000, timeoutSeconds * 1000 - LEASE_MARGIN_MS);
    intervals.push([connected, deadline]);
    if (scheduled >= 0) busyMs += deadline - invoked;
  }
  let longestGap = 0;
  let coveredUntil = 0;
  for (const [from, to] of intervals.sort((a, b) => a[0] - b[0])) {
    if (to <= 0) continue;
    if (from > coveredUntil) longestGap = Math.max(longestGap, Math.min(from, end) - coveredUntil);
    coveredUntil = Math.max(coveredUntil, to);
    if (coveredUntil >= end) break;
  }
  longestGap = Math.max(longestGap, Math.max(0, end - coveredUntil));
  const opensPerMonth = Math.round(((MONTH_DAYS * DAY_MS) / every));
  const computeSecondsPerMonth = Math.round(((busyMs / 1000) * MONTH_DAYS) / days);
  const { perGbSecond, memoryGb } = PRICING[cloud];
  const gbSecondsPerMonth = Math.round(computeSecondsPerMonth * memoryGb);
  return { cloud, days, longestGapS: Math.round(longestGap / 1000), opensPerMonth, computeSecondsPerMonth, gbSecondsPerMonth, costPerMonth: Math.round(gbSecondsPerMonth * perGbSecond * 100) / 100 };
}
