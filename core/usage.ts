import type { EventSource } from './events';
import { allRecords, type EventReader } from './listing';
import { countsAgainstPushQuota, QUOTAS } from './quota';

/**
 * DingTalk's months are China Standard Time's (UTC+8, no daylight saving): a month's usage runs
 * from midnight of its first day there, and its days are named there.
 */
const DINGTALK_OFFSET_MS = 8 * 3_600_000;

/** `YYYY-MM`, from 1970 (before it no event was stored; and `Date.UTC` reads a year under 100 as 19xx). */
const MONTH = /^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/;

/** One month's stored events against DingTalk's push quota (docs/cli.md, `usage`). */
export interface MonthUsage {
  /** `YYYY-MM`, DingTalk's (UTC+8) calendar month. */
  month: string;
  /** Where the month starts and ends (exclusive), ISO-8601 UTC: what was read. */
  since: string;
  until: string;
  /** Every event stored in the month. */
  events: number;
  /** Those that count against the push quota. */
  counted: number;
  /** Those that do not ({@link QUOTA_EXEMPT_TYPES}: contact-list events). */
  exempt: number;
  quota: number;
  bySource: Record<EventSource, number>;
  /** Events by type, most first. */
  byType: Record<string, number>;
  /** Whether the counted events reached the quota. */
  reached: boolean;
  /**
   * `YYYY-MM-DD` (UTC+8): the day the counted events reached the quota, or, for the month under way,
   * the day they will at its rate so far; `null` when they do not within the month.
   */
  reachesQuotaOn: string | null;
  /** Whether the month is over (else the counts are so far). */
  complete: boolean;
}

/** The `YYYY-MM` (UTC+8) of a time. */
export function dingtalkMonth(at: Date): string {
  return new Date(at.getTime() + DINGTALK_OFFSET_MS).toISOString().slice(0, 7);
}

/**
 * The bounds of a `YYYY-MM` month of DingTalk's, as ISO-8601 UTC times.
 * @throws RangeError for anything but `YYYY-MM`.
 */
export function monthBounds(month: string): { since: string; until: string } {
  const match = MONTH.exec(month);
  if (!match) throw new RangeError('a month is YYYY-MM, like 2026-11');
  const [year, index] = [Number(match[1]), Number(match[2]) - 1];
  const at = (y: number, m: number) => new Date(Date.UTC(y, m, 1) - DINGTALK_OFFSET_MS).toISOString();
  return { since: at(year, index), until: at(year, index + 1) };
}

export interface UsageOptions {
  /** The push quota (default: the standard edition's 3,000). */
  quota?: number;
  /** The time the month's rate is taken at (default: now). */
  now?: Date;
  /** Called as records are read, with how many so far. */
  onRead?: (records: number) => void;
}

/**
 * Counts the events stored in one month (`YYYY-MM`, DingTalk's UTC+8 month) by source and by type,
 * those that count against the push quota and those that do not, and when the month reaches the
 * quota. It reads that month's records only, through the listing by time.
 */
export async function monthUsage(reader: EventReader, month: string, options: UsageOptions = {}): Promise<MonthUsage> {
  const { quota = QUOTAS.pushes.standard, now = new Date(), onRead } = options;
  const { since, until } = monthBounds(month);
  const bySource: Record<EventSource, number> = { push: 0, stream: 0, sync: 0, recovered: 0 };
  const types = new Map<string, number>();
  const countedTimes: string[] = [];
  let events = 0;
  for await (const record of allRecords(reader, { since, until })) {
    events += 1;
    bySource[record.source] = (bySource[record.source] ?? 0) + 1;
    types.set(record.eventType, (types.get(record.eventType) ?? 0) + 1);
    if (countsAgainstPushQuota(record.eventType)) countedTimes.push(record.receivedAt);
    if (events % 1000 === 0) onRead?.(events);
  }
  onRead?.(events);
  const counted = countedTimes.length;
  const start = Date.parse(since);
  const end = Date.parse(until);
  const complete = now.getTime() >= end;
  let reachesAt: number | undefined;
  if (counted >= quota && quota > 0) {
    // Newest first: the quota-th oldest counted event is the one that reached it.
    reachesAt = Date.parse(countedTimes[counted - quota]!);
  } else if (!complete && counted > 0 && now.getTime() > start) {
    const projected = start + (quota / counted) * (now.getTime() - start);
    if (projected < end) reachesAt = projected;
  }
  const byType = Object.fromEntries([...types].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)));
  return {
    month,
    since,
    until,
    events,
    counted,
    exempt: events - counted,
    quota,
    bySource,
    byType,
    reached: quota > 0 && counted >= quota,
    reachesQuotaOn: reachesAt === undefined ? null : new Date(reachesAt + DINGTALK_OFFSET_MS).toISOString().slice(0, 10),
    complete,
  };
}
