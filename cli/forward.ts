import { HANDSHAKES, type EventRecord } from '../core/events';
import { DEFAULT_RETRY, replay, typeFilter, type ForwardLog } from '../core/forward';
import { loadForwardSettings } from '../core/forward-settings';
import type { EventReader } from '../core/listing';
import { EVENTBRIDGE, type AwsJsonClient } from '../providers/aws/aws-json-client';
import { awsSinks } from '../providers/aws/setup';
import { cliAwsClient } from './aws-client';
import { withDevForwardSecret } from '../providers/local/dev-credentials';
import { counted, inTheFuture, stringFlag, timeFlag, UsageError, wholeNumber, type Command } from './command';
import { progressBar } from './progress';
import { terminalSafe } from './terminal';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';
import { recordsBetween } from './records-between';

export const forward: Command = {
  name: 'forward',
  summary: 'deliver stored events again, signed, to the webhook and event bus (a replay)',
  help: `Usage: dingtalk-callback forward --since TIME [options]

Re-sends the stored events received since TIME, oldest first, through the same code and signing
as the forward function: the same envelope and the same webhook-id for each event, so a consumer
that deduplicates on webhook-id takes each event once however often it is replayed. For a consumer
that was down longer than the stream keeps records (24 hours on DynamoDB), or for the events a dead
letter names. Each sink is retried with backoff; what still fails is listed at the end.
Exit status 0 when every event was delivered, 1 otherwise.

Options:
  --since TIME       events received at or after TIME: ISO-8601 (2026-11-27T08:00:00Z),
                     milliseconds since the epoch, or a duration back from now (90m, 6h, 2d)
  --until TIME       and before TIME (default: now)
  --type T           only these event types: a comma list, * matching any run of characters
                     (bpms_*,user_add_org); DINGTALK_FORWARD_TYPES applies as well
  --attempts N       tries per event and sink, 1 s, 2 s, 4 s … apart (default 4); once a sink
                     has failed an event's every try, the events after it get one try each there
  --dry-run          list what would be sent, send nothing
  -h, --help         show this help

Sinks come from the function's settings: DINGTALK_FORWARD_URL with DINGTALK_FORWARD_SECRET
(npm start's development secret when unset), DINGTALK_EVENT_BUS with the usual AWS credentials.

${STORE_HELP}

Examples:
  dingtalk-callback forward --since 2h
  DINGTALK_FORWARD_URL=https://hooks.example.com/dingtalk DINGTALK_FORWARD_SECRET=whsec_… \\
    dingtalk-callback forward --since 2026-11-27T08:00:00Z --type 'bpms_*' --aws --table dingtalk-callback-prod-events`,
  options: {
    ...STORE_OPTIONS,
    since: { type: 'string' },
    until: { type: 'string' },
    type: { type: 'string' },
    attempts: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  async run(values) {
    const now = new Date();
    const since = timeFlag(values.since, 'since', now);
    if (!since) throw new UsageError('--since is required: how far back to re-send (for example --since 6h)');
    if (since > now) throw new UsageError(`${inTheFuture(since, now)}: no event to re-send`);
    const until = timeFlag(values.until, 'until', now) ?? now;
    if (since >= until) throw new UsageError('--since must be before --until');
    const { env } = withDevForwardSecret(process.env);
    const settings = loadForwardSettings(env);
    const dryRun = values['dry-run'] === true;
    // The bus in --region, else AWS_REGION; its client made now, so that a missing region is said first.
    const eventBridge = settings.eventBus === undefined ? undefined : cliAwsClient(EVENTBRIDGE, { region: stringFlag(values.region) });
    const sinks = awsSinks(settings, () => eventBridge as AwsJsonClient);
    if (sinks.length === 0 && !dryRun) throw new UsageError('no sink is set: set DINGTALK_FORWARD_URL (and DINGTALK_FORWARD_SECRET) or DINGTALK_EVENT_BUS');
    const only = typeFilter(stringFlag(values.type));
    const wanted = (record: EventRecord) => only(record.eventType) && settings.types(record.eventType);
    const matching = (await recordsBetween(openStore(values) as EventReader, since, until)).filter(wanted);
    // Handshakes are never forwarded (a store may hold some from an older version): not counted as sent.
    const records = matching.filter((record) => !HANDSHAKES.has(record.eventType));
    const handshakes = matching.length - records.length;
    const skipped = handshakes > 0 ? `; ${counted(handshakes, 'handshake')} (check_url, suite checks) skipped: never forwarded` : '';
    if (dryRun) {
      const types = records.map((record) => terminalSafe(record.eventType));
      const width = Math.max(0, ...types.map((type) => type.length));
      for (const [index, record] of records.entries()) process.stdout.write(`${record.receivedAt}  ${types[index]!.padEnd(width)}  ${terminalSafe(record.id)}\n`);
      process.stdout.write(`${counted(records.length, 'event')} would be sent${skipped}\n`);
      return 0;
    }
    const progress = progressBar(records.length, 'forwarding');
    let done = 0;
    let failed = false;
    // As a stream batch: once a sink has failed a record's every attempt, the others get one each,
    // so a receiver that is down costs seconds, not 7 s of backoff per event.
    const { outcomes, failures } = await replay(records, {
      sinks,
      retry: { ...DEFAULT_RETRY, attempts: wholeNumber(values.attempts, 'attempts', DEFAULT_RETRY.attempts, 1, 10) },
      // One line per record and sink: a record is done at its last sink.
      log: (line: ForwardLog) => {
        failed ||= line.outcome !== 'delivered';
        if (line.sink !== sinks.at(-1)?.name) return;
        progress(++done, failed);
        failed = false;
      },
    });
    for (const failure of failures) process.stdout.write(`failed ${terminalSafe(failure.id)} (${terminalSafe(failure.eventType)}) to ${failure.sink}: ${failure.reason} after ${counted(failure.attempts, 'attempt')}\n`);
    const delivered = outcomes.filter((outcome) => outcome === 'delivered').length;
    process.stdout.write(`${delivered} of ${counted(records.length, 'event')} delivered${skipped}\n`);
    return delivered === records.length ? 0 : 1;
  },
};
