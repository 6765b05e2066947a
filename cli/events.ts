import type { EventRecord } from '../core/events';
import { recordJson, reindentJson } from '../core/json-text';
import { MAX_LIST_LIMIT, type EventPage, type EventStore } from '../core/listing';
import { inTheFuture, stringFlag, timeFlag, UsageError, wholeNumber, type Command } from './command';
import { eventsTable } from './events-table';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';
import { terminalSafe } from './terminal';

export const events: Command = {
  name: 'events',
  summary: 'list stored events newest first, or show one with "events get <id>"',
  help: `Usage: dingtalk-callback events [options]
       dingtalk-callback events get <id> [--json | --raw] [store options]

Lists stored events newest first as a table, or shows one event with its payload pretty-printed.
A listing reads about as many items as it prints, however many the table holds. On a terminal the
table fits its width: empty columns, then CORP ID and PROCESS INSTANCE, are left out and IDs cut in
the middle (start…end); "events get" takes such an ID as shown, among the 1,000 newest events.

Options:
  --type T                   only events of this EventType
  --process-instance ID      only the events of this approval instance
  --since TIME               only events received at or after TIME: ISO-8601
                             (2026-11-27T08:00:00Z), milliseconds since the epoch, or a
                             duration back from now (90m, 6h, 2d)
  --until TIME               only events received before TIME (same forms)
  --limit N                  at most N events, 1 to ${MAX_LIST_LIMIT} (default 20)
  --cursor C                 the next page: the cursor the previous page gave, with the same
                             filters. A table prints it on standard error when more events match;
                             --json prints it as "cursor" (null on the last page)
  --json                     print JSON: {"events": [records], "cursor": …} for a list, the record
                             for get; each payload is the message as JSON, its numbers exact
  --raw                      get only: print the payload exactly as stored, nothing else
  --wide                     print every column of the table whole, however wide the terminal
                             (a table that goes to a pipe or a file always is)
  -h, --help                 show this help

${STORE_HELP}

Examples:
  dingtalk-callback events
  dingtalk-callback events --type bpms_instance_change --since 2d --limit 100
  dingtalk-callback events --json --limit 1000 | jq '.events[].payload.processInstanceId'
  dingtalk-callback events get 'ding6ccabc44d2c8d38b:sha256:3759258964b7d6e69aa28ae0aaff968f49e37d2074b10f6b47bdfeb50ca19be7'
  dingtalk-callback events --aws --table dingtalk-callback-prod-events --region cn-north-1`,
  options: {
    ...STORE_OPTIONS,
    type: { type: 'string' },
    'process-instance': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
    raw: { type: 'boolean' },
    wide: { type: 'boolean' },
  },
  async run(values, positionals) {
    const store = openStore(values);
    if (positionals[0] === 'get') {
      if (positionals.length !== 2) throw new UsageError('events get takes exactly one id (the ID column of "events")');
      if (values.json && values.raw) throw new UsageError('choose one of --json and --raw');
      return showOne(store, positionals[1] as string, values.json ? 'json' : values.raw ? 'raw' : 'text');
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (did you mean "events get ${positionals[0]}"?)`);
    if (values.raw) throw new UsageError('--raw is for "events get <id>"');
    const now = new Date();
    const since = timeFlag(values.since, 'since', now);
    const until = timeFlag(values.until, 'until', now);
    if (since && until && since >= until) throw new UsageError('--since must be before --until');
    if (since && since > now) process.stderr.write(`${inTheFuture(since, now)}: no event can match yet\n`);
    const page = await store.list({
      eventType: stringFlag(values.type),
      processInstanceId: stringFlag(values['process-instance']),
      since: since?.toISOString(),
      until: until?.toISOString(),
      limit: wholeNumber(values.limit, 'limit', 20, 1, MAX_LIST_LIMIT),
      cursor: stringFlag(values.cursor),
    });
    if (values.json) {
      process.stdout.write(`${terminalSafe(pageJson(page), '\n')}\n`);
    } else {
      // A terminal gets a table that fits it; a pipe, or --wide, every column whole.
      const width = process.stdout.isTTY && !values.wide ? process.stdout.columns : undefined;
      const { text, fitted } = eventsTable(page.records, width);
      process.stdout.write(`${text}\n`);
      if (fitted.length > 0) process.stderr.write(`${fitted.join(', ')} to fit ${width} columns: --wide prints every column whole\n`);
      if (page.cursor) process.stderr.write(`more events match: add --cursor ${terminalSafe(page.cursor)}\n`);
    }
    return 0;
  },
};

async function showOne(store: EventStore, id: string, form: 'text' | 'json' | 'raw'): Promise<number> {
  const record = id.includes('…') ? await byCutId(store, id) : await store.get(id);
  if (!record) {
    const where = id.includes('…') ? ` among the ${CUT_ID_SEARCH} newest` : '';
    process.stderr.write(`no event with id ${terminalSafe(id)}${where} (ids are the ID column of "events")\n`);
    return 1;
  }
  if (form === 'raw') {
    // Verbatim into a pipe or a file; on a terminal, control characters escaped like everything else.
    process.stdout.write(process.stdout.isTTY ? terminalSafe(record.payload, '\n\t') : record.payload);
    return 0;
  }
  if (form === 'json') {
    process.stdout.write(`${terminalSafe(recordJson(record), '\n')}\n`);
    return 0;
  }
  const { payload, ...fields } = record;
  const width = Math.max(...Object.keys(fields).map((name) => name.length));
  const lines = Object.entries(fields).map(([name, value]) => `${name.padEnd(width)}  ${name === 'eventTime' ? `${value} (${new Date(Number(value)).toISOString()})` : terminalSafe(String(value))}`);
  process.stdout.write(`${lines.join('\n')}\npayload:\n${terminalSafe(prettyPayload(payload), '\n')}\n`);
  return 0;
}

/** How many of the newest events `events get` looks through for an ID cut to fit a terminal. */
const CUT_ID_SEARCH = 1000;

/**
 * The event whose ID a fitted table showed cut in the middle (`start…end`), found among the
 * {@link CUT_ID_SEARCH} newest: one listing page, so that a table's ID can be pasted as it shows.
 * @throws UsageError when two of them fit it.
 */
async function byCutId(store: EventStore, cut: string): Promise<EventRecord | undefined> {
  const [start = '', end = ''] = cut.split('…');
  const { records } = await store.list({ limit: CUT_ID_SEARCH });
  const fitting = records.filter((record) => record.id.startsWith(start) && record.id.endsWith(end) && record.id.length >= cut.length);
  if (fitting.length > 1) throw new UsageError(`${fitting.length} events have an id that starts "${start}" and ends "${end}": run events --wide for the whole ids`);
  return fitting[0];
}

/** A page as `{"events": [...], "cursor": …}`, each record's payload as JSON with its numbers as written. */
function pageJson(page: EventPage): string {
  const records = page.records.map((record) => `    ${recordJson(record, 2, 2)}`);
  const list = records.length > 0 ? `[\n${records.join(',\n')}\n  ]` : '[]';
  return `{\n  "events": ${list},\n  "cursor": ${JSON.stringify(page.cursor ?? null)}\n}`;
}

function prettyPayload(payload: string): string {
  try {
    return reindentJson(payload);
  } catch {
    return payload;
  }
}

