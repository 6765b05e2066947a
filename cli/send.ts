import { readFileSync } from 'node:fs';
import { latencyWarning, pushBudget, seconds, DEADLINES_MS } from '../core/deadlines';
import { parseMessage } from '../core/events';
import { closest, counted, UsageError, wholeNumber, type Command } from './command';
import { deliver, type Delivery } from './deliver';
import { EVENT_FAMILIES, samplePayload } from './event-payloads';
import { sandboxEnv, sandboxOn, SANDBOX_VARIABLE, UNDELIVERED_PATH } from '../providers/local/dingtalk-sandbox';
import { progressBar } from './progress';
import { terminalSafe } from './terminal';
import { sendMany, type SendSummary } from './send-many';
import { pushTypeOf, SYNC_ACTIONS, syncPush, syncRow, type SyncAction } from './sync-rows';
import { CREDENTIALS_HELP, hints, TARGET_HELP, TARGET_OPTIONS, targetFrom } from './target';

const EVENT_TYPES = Object.values(EVENT_FAMILIES).flat();
const families = Object.entries(EVENT_FAMILIES).map(([family, types]) => `  ${family.padEnd(11)}${types.join(', ')}`).join('\n');

export const send: Command = {
  name: 'send',
  summary: 'push an event to a callback URL as DingTalk does, and check the reply',
  help: `Usage: dingtalk-callback send <eventType | file.json | -> [options]
       dingtalk-callback send --sync <syncAction> [--rows N] [options]

Behaves as DingTalk: builds a realistic payload for the event type (or reads one from a JSON
file, or from standard input with -), signs and encrypts it, POSTs it, then verifies and decrypts
the reply. Exit status 0 when every reply is a valid "success" (or, for a suite URL check, its
Random), 1 otherwise, 2 on a usage error.

Options:
${TARGET_HELP}
  --count N          send N pushes (default 1); each is a fresh event unless --duplicate
  --concurrency C    at most C pushes in flight (default 8)
  --duplicate        send the same event every time (each with a fresh ciphertext, as DingTalk
                     retries do): the store must keep exactly one record
  --records N        records in an attendance or SyncHTTP push (default 3)
  --sync ACTION      play an ISV's SyncHTTP push instead: rows of this syncAction (${SYNC_ACTIONS.join(', ')}),
                     in SYNC_HTTP_PUSH_HIGH (tickets, authorisations) or _MEDIUM (the rest); each
                     row is stored as a record of its own, and the result names each row's id
  --rows N           rows in a --sync push (default 1), each a distinct object or version
  --undelivered      with DINGTALK_SANDBOX=true: do not post it; park it in the failed list of the
                     local DingTalk sandbox of npm start instead, as DingTalk does once its retries
                     of a push fail, for "dingtalk-callback recover" to bring in
  -h, --help         show this help

${CREDENTIALS_HELP}

Event types (any other name is sent as a generic event):
${families}

Examples:
  dingtalk-callback send user_add_org
  dingtalk-callback send bpms_instance_change --count 200 --concurrency 16
  dingtalk-callback send --sync suite_ticket
  dingtalk-callback send --sync org_dept_create --rows 50
  DINGTALK_SANDBOX=true dingtalk-callback send bpms_instance_change --undelivered
  echo '{"EventType":"user_leave_org","UserId":["u1"]}' | dingtalk-callback send -`,
  options: {
    ...TARGET_OPTIONS,
    count: { type: 'string' },
    concurrency: { type: 'string' },
    duplicate: { type: 'boolean' },
    records: { type: 'string' },
    sync: { type: 'string' },
    rows: { type: 'string' },
    undelivered: { type: 'boolean' },
  },
  async run(values, positionals) {
    const action = syncActionOf(values.sync);
    if (action ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError(action ? 'send --sync takes no event type: the rows are of the syncAction given' : 'send takes exactly one event type, JSON file or -');
    if (values.rows !== undefined && !action) throw new UsageError('--rows goes with --sync (for attendance and whole SyncHTTP samples, --records)');
    const rows = wholeNumber(values.rows, 'rows', 1, 0, 1000);
    const source = action ? pushTypeOf(action) : (positionals[0] as string);
    const count = wholeNumber(values.count, 'count', 1);
    const concurrency = wholeNumber(values.concurrency, 'concurrency', 8, 1, 1000);
    const records = wholeNumber(values.records, 'records', 3, 0, 100_000);
    if (values.undelivered) undeliverable(values);
    const target = targetFrom(values);
    const fixed = !action && (source === '-' || source.endsWith('.json')) ? readMessage(source) : undefined;
    if (!fixed && !action && !EVENT_TYPES.includes(source)) {
      const near = closest(source, EVENT_TYPES);
      process.stderr.write(`${source} is not a known event type${near ? ` (did you mean ${near}?)` : ''}: it is sent as a generic event\n`);
    }
    const fresh = () => fixed ?? (action ? syncMessage(action, rows) : JSON.stringify(samplePayload(source, target.ownerKey, records)));
    const first = fresh();
    const label = fixed ? labelOf(fixed, source) : source;
    const message = values.duplicate ? () => first : (index: number) => (index === 0 ? first : fresh());
    if (values.undelivered) return parkAll(label, count, message);
    if (target.usingDev) process.stderr.write('using the development credentials of npm start (none of DINGTALK_TOKEN, DINGTALK_AES_KEY, DINGTALK_OWNER_KEY is set)\n');
    if (count === 1) {
      const delivery = await deliver(target, first);
      // What the server said is its text, not ours.
      process.stdout.write(`${terminalSafe(describe(label, delivery))}\n`);
      const slow = delivery.unreachable ? undefined : latencyWarning(delivery.latencyMs, label);
      if (slow) process.stderr.write(`warning: ${slow}\n`);
      process.stderr.write(hints(target.url, { unreachable: delivery.unreachable, codes: [delivery.code] }));
      return delivery.ok ? 0 : 1;
    }
    const bar = progressBar(count, 'sending');
    const summary = await sendMany(target, { count, concurrency, message, onDelivery: (done, delivery) => bar(done, !delivery.ok) });
    process.stdout.write(`${summarise(summary, label)}\n`);
    process.stderr.write(hints(target.url, summary));
    return summary.failed === 0 ? 0 : 1;
  },
};

/** Why `--undelivered` cannot be, if it cannot: it needs the sandbox, and is no SyncHTTP push nor a post to a URL. */
function undeliverable(values: Record<string, string | boolean | undefined>): void {
  if (!sandboxOn(process.env)) throw new UsageError(`--undelivered parks the push in the local DingTalk sandbox: set ${SANDBOX_VARIABLE}=true, here and for npm start`);
  if (values.sync !== undefined) throw new UsageError('--undelivered is for an event of a corp or app; a SyncHTTP push is never parked in a failed list');
  if (values.url !== undefined) throw new UsageError('--undelivered posts nothing to a callback URL: leave out --url');
}

/** Parks `count` messages in the sandbox's failed list; exit status 1 when the sandbox refused or was not there. */
async function parkAll(label: string, count: number, message: (index: number) => string): Promise<number> {
  const base = sandboxEnv(process.env).DINGTALK_API_BASE!;
  let waiting = 0;
  try {
    for (let index = 0; index < count; index++) waiting = await park(base, message(index));
  } catch (error) {
    process.stderr.write(`dingtalk-callback send: ${terminalSafe((error as Error).message)}\n`);
    return 1;
  }
  process.stdout.write(`parked ${counted(count, label === '-' ? 'message' : `${label} push`)} in the failed list of the DingTalk sandbox at ${base}: ${waiting} waiting there; dingtalk-callback recover brings ${count === 1 ? 'it' : 'them'} into the store\n`);
  return 0;
}

/** Hands one message to the sandbox as undelivered; resolves to how many wait in its failed list. */
async function park(base: string, text: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(`${base}/${UNDELIVERED_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text, signal: AbortSignal.timeout(5000) });
  } catch {
    throw new Error(`nothing answered at ${base}: start npm start with ${SANDBOX_VARIABLE}=true (it serves the DingTalk sandbox), or set DINGTALK_API_BASE to where it runs`);
  }
  const answer = (await response.json().catch(() => ({}))) as { errcode?: number; errmsg?: string; waiting?: number };
  if (answer.errcode !== 0 || typeof answer.waiting !== 'number') throw new Error(`the DingTalk sandbox at ${base} did not take it (${answer.errmsg ?? `HTTP ${response.status}`})`);
  return answer.waiting;
}

function syncActionOf(value: unknown): SyncAction | undefined {
  if (value === undefined) return undefined;
  if (SYNC_ACTIONS.includes(value as SyncAction)) return value as SyncAction;
  const near = closest(String(value), SYNC_ACTIONS);
  throw new UsageError(`--sync takes one of ${SYNC_ACTIONS.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`);
}

/**
 * A SyncHTTP push of `count` fresh rows of `action`: versions a millisecond apart, and for
 * authorisations as many organisations, so that every row is a record of its own.
 */
function syncMessage(action: SyncAction, count: number): string {
  const now = Date.now();
  const perCorp = action.startsWith('org_suite_');
  return syncPush(
    Array.from({ length: count }, (_, index) => syncRow(action, { modified: now - (count - 1 - index), ...(perCorp && { corpId: `ding${Math.random().toString(16).slice(2, 18)}` }) })),
    pushTypeOf(action),
  );
}

function readMessage(source: string): string {
  try {
    const text = readFileSync(source === '-' ? 0 : source, 'utf8').trim();
    JSON.parse(text);
    return text;
  } catch (error) {
    throw new UsageError(`${source === '-' ? 'standard input' : source} is not a readable JSON file: ${(error as Error).message}`);
  }
}

/** What a message read from a file or standard input is called in the result: its EventType, else where it came from. */
function labelOf(message: string, source: string): string {
  try {
    return parseMessage(Buffer.from(message, 'utf8')).eventType;
  } catch {
    return source === '-' ? 'standard input' : source;
  }
}

/** One push's result line: the reply as it decrypted (`success`, or a suite check's Random), or why it failed. */
function describe(label: string, delivery: Delivery): string {
  const latency = `${delivery.latencyMs.toFixed(1)} ms`;
  const id = delivery.rows ? `, ${counted(delivery.rows.length, 'row')}${delivery.rows.map((rowId) => ` id ${rowId}`).join('')}` : delivery.id ? ` id ${delivery.id}` : '';
  return delivery.ok ? `ok ${label}: ${delivery.status} ${delivery.reply} in ${latency}${id}` : `FAILED ${label}: ${delivery.status ? `${delivery.status} ` : ''}${delivery.problem} (${latency})`;
}

/**
 * The closing lines of a many-push run of `eventType` pushes (any data push for a mix); no latency
 * or rate when no push was answered. The p99 is held to DingTalk's budget for such a push.
 */
export function summarise(summary: SendSummary, eventType = ''): string {
  const rate = summary.sent / (summary.elapsedMs / 1000);
  const lines = [`sent ${summary.sent}: ok ${summary.ok}, failed ${summary.failed}; ${counted(summary.acknowledged.size, 'distinct event')} acknowledged`];
  if (summary.answered > 0) {
    const budget = pushBudget(eventType);
    const budgets = budget.ms === DEADLINES_MS.httpPush ? `${seconds(budget.ms)} for ${budget.what}, ${seconds(DEADLINES_MS.legacyCallback)} for a legacy callback` : `${seconds(budget.ms)} for ${budget.what}`;
    lines.push(`latency p50 ${summary.p50Ms.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms (DingTalk waits ${budgets}); ${rate.toFixed(0)} pushes/s over ${(summary.elapsedMs / 1000).toFixed(1)} s`);
    const slow = latencyWarning(summary.p99Ms, eventType);
    if (slow) lines.push(`warning: the p99 of ${slow}`);
  } else lines.push('no push was answered, so there is no latency or rate to report');
  for (const [problem, times] of summary.problems) lines.push(`  ${times} x ${problem}`);
  return lines.join('\n');
}
