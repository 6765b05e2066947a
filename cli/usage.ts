import { countsAgainstPushQuota, QUOTAS } from '../core/quota';
import { dingtalkMonth, monthBounds, monthUsage, type MonthUsage } from '../core/usage';
import { UsageError, wholeNumber, type Command } from './command';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';
import { terminalSafe } from './terminal';

export const usage: Command = {
  name: 'usage',
  summary: "count a month's stored events against DingTalk's push quota, by source and by type",
  help: `Usage: dingtalk-callback usage [--month YYYY-MM] [--quota N] [--json] [store options]

Counts the events stored in one month by source (push, stream, sync, recovered) and by type, and
how many of them count against DingTalk's monthly push quota: contact-list events (通讯录) do not
(core/quota.ts holds DingTalk's list). Says when the month reaches the quota at its rate so far:
once it is spent, DingTalk pushes nothing more that month. Months are DingTalk's (UTC+8). It reads
that month's events only, one read per event (docs/cli.md has the cost on each cloud).
Exit status 0, also when the quota is reached; 1 when the store cannot be read.

Options:
  --month YYYY-MM    the month, this one or an earlier one (default: this month)
  --quota N          the organisation's push quota a month (default ${QUOTAS.pushes.standard}, the standard
                     edition; ${QUOTAS.pushes.addOn} with the paid add-on)
  --json             print one JSON object: month, events, counted, exempt, quota, bySource,
                     byType, reached, reachesQuotaOn, complete, since, until
  -h, --help         show this help

${STORE_HELP}

Examples:
  dingtalk-callback usage
  dingtalk-callback usage --month 2026-10 --json
  dingtalk-callback usage --aws --table dingtalk-callback-prod-events --region cn-north-1`,
  options: {
    ...STORE_OPTIONS,
    month: { type: 'string' },
    quota: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const current = dingtalkMonth(new Date());
    const month = typeof values.month === 'string' ? values.month : current;
    try {
      monthBounds(month);
    } catch {
      throw new UsageError(`--month must be YYYY-MM, like ${current}`);
    }
    if (month > current) throw new UsageError(`--month ${month} has not begun: DingTalk's month (UTC+8) is ${current}`);
    const quota = wholeNumber(values.quota, 'quota', QUOTAS.pushes.standard, 1, 1_000_000_000);
    const store = openStore(values);
    const onRead = process.stderr.isTTY ? (records: number) => process.stderr.write(`\rreading ${month}: ${records} events`) : undefined;
    const result = await monthUsage(store, month, { quota, onRead });
    if (onRead) process.stderr.write('\n');
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : report(result));
    return 0;
  },
};

const number = (value: number) => value.toLocaleString('en-US');

/** The text report: totals, the quota and its day, then the counts by source and by type. */
function report(usage: MonthUsage): string {
  const share = Math.round((usage.counted / usage.quota) * 100);
  const lines = [
    `${usage.month} (UTC+8)${usage.complete ? '' : ', so far'}: ${number(usage.events)} events stored`,
    `  count against the push quota  ${number(usage.counted)} of ${number(usage.quota)} (${share}%)`,
    `  exempt (contact-list events)  ${number(usage.exempt)}`,
  ];
  if (usage.reached) lines.push(`  the quota was reached on ${usage.reachesQuotaOn}: DingTalk pushes nothing more ${usage.complete ? 'that' : 'this'} month`);
  else if (usage.reachesQuotaOn) lines.push(`  at this month's rate the quota is reached on ${usage.reachesQuotaOn}`);
  else if (!usage.complete) lines.push("  at this month's rate the quota is not reached this month");
  if (usage.bySource.sync > 0) lines.push('  (each SyncHTTP row is counted; DingTalk counts a push of several rows once)');
  lines.push('', 'By source:', ...Object.entries(usage.bySource).map(([source, count]) => `  ${source.padEnd(10)} ${number(count).padStart(9)}`));
  const types = Object.entries(usage.byType).map(([type, count]) => ({ shown: terminalSafe(type), count, exempt: !countsAgainstPushQuota(type) }));
  if (types.length > 0) {
    // The width of the types as shown: a control character in one is its longer escape.
    const width = Math.max(...types.map(({ shown }) => shown.length));
    lines.push('', 'By type:');
    for (const { shown, count, exempt } of types) lines.push(`  ${shown.padEnd(width)} ${number(count).padStart(9)}${exempt ? '  exempt' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
