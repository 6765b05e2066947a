import type { EventRecord } from '../core/events';
import { MAX_LIST_LIMIT, type EventStore } from '../core/listing';
import { stringFlag, UsageError, wholeNumber, type Command } from './command';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';

export const events: Command = {
  name: 'events',
  summary: 'list stored events newest first, or show one with "events get <id>"',
  help: `Usage: dingtalk-callback events [options]
       dingtalk-callback events get <id> [options]

Lists stored events newest first as a table, or shows one event with its payload pretty-printed.

Options:
  --type T                   only events of this EventType
  --process-instance ID      only the events of this approval instance
  --limit N                  at most N events, up to 50 (default 20)
  --json                     print JSON: an array of records (list) or the record (get)
  -h, --help                 show this help

${STORE_HELP}

Examples:
  dingtalk-callback events
  dingtalk-callback events --type bpms_instance_change --limit 5
  dingtalk-callback events get ding6ccabc44d2c8d38b:sha256:3759258964b7d6e69aa28ae0aaff968f49e37d2074b10f6b47bdfeb50ca19be7
  dingtalk-callback events --aws --table dingtalk-callback-prod-events --region cn-north-1`,
  options: {
    ...STORE_OPTIONS,
    type: { type: 'string' },
    'process-instance': { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, positionals) {
    const store = openStore(values);
    if (positionals[0] === 'get') {
      if (positionals.length !== 2) throw new UsageError('events get takes exactly one id (the ID column of "events")');
      return showOne(store, positionals[1] as string, values.json === true);
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (did you mean "events get ${positionals[0]}"?)`);
    const records = await store.list({
      eventType: stringFlag(values.type),
      processInstanceId: stringFlag(values['process-instance']),
      limit: wholeNumber(values.limit, 'limit', 20, 1, MAX_LIST_LIMIT),
    });
    process.stdout.write(values.json ? `${JSON.stringify(records, null, 2)}\n` : `${table(records)}\n`);
    return 0;
  },
};

async function showOne(store: EventStore, id: string, json: boolean): Promise<number> {
  const record = await store.get(id);
  if (!record) {
    process.stderr.write(`no event with id ${id} (ids are the ID column of "events")\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return 0;
  }
  const { payload, ...fields } = record;
  const width = Math.max(...Object.keys(fields).map((name) => name.length));
  const lines = Object.entries(fields).map(([name, value]) => `${name.padEnd(width)}  ${name === 'eventTime' ? `${value} (${new Date(Number(value)).toISOString()})` : value}`);
  process.stdout.write(`${lines.join('\n')}\npayload:\n${prettyPayload(payload)}\n`);
  return 0;
}

function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

/** A plain-text table, one event a row; the payload is left to `events get`. */
function table(records: EventRecord[]): string {
  if (records.length === 0) return 'no events stored yet';
  const rows = records.map((record) => [record.receivedAt.replace('T', ' ').replace('Z', ''), record.eventType, record.id, record.corpId ?? '', record.processInstanceId ?? '']);
  const header = ['RECEIVED (UTC)', 'EVENT TYPE', 'ID', 'CORP ID', 'PROCESS INSTANCE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd()).join('\n');
}
