import type { EventRecord } from '../core/events';
import { recordJson, reindentJson } from '../core/json-text';
import { MAX_LIST_LIMIT, type EventPage, type EventStore } from '../core/listing';
import { stringFlag, timeFlag, UsageError, wholeNumber, type Command } from './command';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';

export const events: Command = {
  name: 'events',
  summary: 'list stored events newest first, or show one with "events get <id>"',
  help: `Usage: dingtalk-callback events [options]
       dingtalk-callback events get <id> [--json | --raw] [store options]

Lists stored events newest first as a table, or shows one event with its payload pretty-printed.
A listing reads about as many items as it prints, however many the table holds.

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
    const page = await store.list({
      eventType: stringFlag(values.type),
      processInstanceId: stringFlag(values['process-instance']),
      since: since?.toISOString(),
      until: until?.toISOString(),
      limit: wholeNumber(values.limit, 'limit', 20, 1, MAX_LIST_LIMIT),
      cursor: stringFlag(values.cursor),
    });
    if (values.json) {
      process.stdout.write(`${pageJson(page)}\n`);
    } else {
      process.stdout.write(`${table(page.records)}\n`);
      if (page.cursor) process.stderr.write(`more events match: add --cursor ${page.cursor}\n`);
    }
    return 0;
  },
};

async function showOne(store: EventStore, id: string, form: 'text' | 'json' | 'raw'): Promise<number> {
  const record = await store.get(id);
  if (!record) {
    process.stderr.write(`no event with id ${id} (ids are the ID column of "events")\n`);
    return 1;
  }
  if (form === 'raw') {
    process.stdout.write(record.payload);
    return 0;
  }
  if (form === 'json') {
    process.stdout.write(`${recordJson(record)}\n`);
    return 0;
  }
  const { payload, ...fields } = record;
  const width = Math.max(...Object.keys(fields).map((name) => name.length));
  const lines = Object.entries(fields).map(([name, value]) => `${name.padEnd(width)}  ${name === 'eventTime' ? `${value} (${new Date(Number(value)).toISOString()})` : value}`);
  process.stdout.write(`${lines.join('\n')}\npayload:\n${prettyPayload(payload)}\n`);
  return 0;
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

/** A plain-text table, one event a row; the payload is left to `events get`. */
function table(records: EventRecord[]): string {
  if (records.length === 0) return 'no events match';
  const rows = records.map((record) => [record.receivedAt.replace('T', ' ').replace('Z', ''), record.eventType, record.id, record.corpId ?? '', record.processInstanceId ?? '']);
  const header = ['RECEIVED (UTC)', 'EVENT TYPE', 'ID', 'CORP ID', 'PROCESS INSTANCE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd()).join('\n');
}
