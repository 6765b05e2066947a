import { optionalWholeNumber, type Environment } from './environment';
import type { EventWriter } from './store';
import { runRelay, type Connect, type RelaySummary } from './stream-relay';
import type { StreamSettings } from './stream-settings';

/**
 * The scheduled `stream` function's lease: each invocation holds the relay this long, then stops
 * taking frames, acks what it holds and closes; the next invocation, started by the schedule before
 * this one ends, has its own connection open by then (docs/stream.md, "The stream function").
 */

/** Each cloud's default lease and schedule: the fewest opens per month with an overlap that start jitter cannot close (docs/stream.md). */
export const STREAM_LEASES = {
  /** Lambda stops a run at 15 min: a 14 min lease every 12 min, 2 min of overlap. */
  aws: { leaseSeconds: 14 * 60, everySeconds: 12 * 60, timeoutSeconds: 15 * 60 },
  /** Function Compute lets a timer's (asynchronous) run go far longer: a 65 min lease every 60 min, 5 min of overlap. */
  aliyun: { leaseSeconds: 65 * 60, everySeconds: 60 * 60, timeoutSeconds: 70 * 60 },
} as const;

/** Kept back from the platform's own time limit: the stop (frames in hand answered within DingTalk's 3 s) and the close. */
export const LEASE_MARGIN_MS = 30_000;

/**
 * The lease in ms: `DINGTALK_STREAM_LEASE_SECONDS`, else `defaultSeconds`.
 * @throws ConfigError when it is not a whole number of seconds, 10 or more.
 */
export function leaseMs(env: Environment, defaultSeconds: number): number {
  return (optionalWholeNumber(env, 'DINGTALK_STREAM_LEASE_SECONDS', 10, 'seconds') ?? defaultSeconds) * 1000;
}

/** When the relay stops taking frames: at the lease's end, or {@link LEASE_MARGIN_MS} before the platform's limit if that comes first. */
export function leaseDeadline(now: number, lease: number, remainingMs: number): number {
  return now + Math.max(0, Math.min(lease, remainingMs - LEASE_MARGIN_MS));
}

/** What one invocation of the `stream` function runs with. */
export interface StreamRun {
  settings: StreamSettings;
  writer: EventWriter;
  connect: Connect;
  /** The lease, in ms. */
  leaseMs: number;
}

/**
 * One lease: the relay until `deadline` (from {@link leaseDeadline}), its log lines through `log`.
 * @throws the relay's error when DingTalk refuses the credentials (its message names the setting).
 */
export async function runLease(run: StreamRun, deadline: number, log?: (entry: object) => void): Promise<RelaySummary> {
  return runRelay({ settings: run.settings, writer: run.writer, connect: run.connect, deadline, log });
}
