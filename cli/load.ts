import type { EventStore } from '../core/listing';
import { counted, UsageError, wholeNumber, type Command } from './command';
import { HANDSHAKES } from '../core/events';
import { storedRecords } from './deliver';
import { EVENT_FAMILIES, samplePayload } from './event-payloads';
import { progressBar, type Progress } from './progress';
import { sendMany } from './send-many';
import { mapLimited } from '../core/pool';
import { summarise } from './send';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';
import { CREDENTIALS_HELP, hints, TARGET_HELP, TARGET_OPTIONS, targetFrom } from './target';

/** Every stored event type: the handshakes (check_url and the suite URL checks) are answered but never stored, so they have no place in a load. */
const LOAD_TYPES = Object.values(EVENT_FAMILIES).flat().filter((type) => !HANDSHAKES.has(type));

export const load: Command = {
  name: 'load',
  summary: 'push many events, a share of them redelivered, then check the store holds each once',
  help: `Usage: dingtalk-callback load [options]

Sends --count pushes to a running endpoint, --concurrency at a time, cycling through every event
family; a --duplicates share of them redelivers an event sent before (with a fresh ciphertext, as
DingTalk's retries do). Then reads the store back: every acknowledged event must be there once,
with its payload byte for byte. Reports failures, distinct records and p50 / p99 latency.
Exit status 0 when no push failed and every acknowledged event is stored intact, 1 otherwise.

Options:
${TARGET_HELP}
  --count N          pushes to send (default 2000)
  --concurrency C    pushes in flight at once (default 32)
  --duplicates F     share of pushes that redeliver an earlier event, 0 to 0.9 (default 0.25)
  --no-verify        do not read the store back (when it is not reachable from here)
  -h, --help         show this help

${STORE_HELP}

${CREDENTIALS_HELP}`,
  options: {
    ...TARGET_OPTIONS,
    ...STORE_OPTIONS,
    count: { type: 'string' },
    concurrency: { type: 'string' },
    duplicates: { type: 'string' },
    'no-verify': { type: 'boolean' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const count = wholeNumber(values.count, 'count', 2000);
    const concurrency = wholeNumber(values.concurrency, 'concurrency', 32, 1, 1000);
    const share = values.duplicates === undefined ? 0.25 : Number(values.duplicates);
    if (!(share >= 0 && share <= 0.9)) throw new UsageError('--duplicates must be a share from 0 to 0.9');
    const target = targetFrom(values);
    const store = values['no-verify'] ? undefined : openStore(values);

    const sent = new Map<string, string>();
    const fresh: string[] = [];
    const message = (index: number): string => {
      // Spreads the redeliveries evenly: exactly round(count * share) of them, never the first push.
      const redeliver = fresh.length > 0 && Math.floor((index + 1) * share) > Math.floor(index * share);
      if (redeliver) return fresh[Math.floor(Math.random() * fresh.length)] as string;
      const text = JSON.stringify(samplePayload(LOAD_TYPES[fresh.length % LOAD_TYPES.length] as string, target.ownerKey));
      fresh.push(text);
      for (const record of storedRecords(text, target.ownerKey).records) sent.set(record.id, record.payload);
      return text;
    };
    const sending = progressBar(count, 'sending  ');
    const summary = await sendMany(target, { count, concurrency, message, onDelivery: (done, delivery) => sending(done, !delivery.ok) });
    process.stdout.write(`${summarise(summary)}\n${counted(count - fresh.length, 'redelivery', 'redeliveries')} of ${counted(fresh.length, 'distinct event')}\n`);
    process.stderr.write(hints(target.url, summary));
    // Nothing acknowledged (nothing answered, say): there is nothing to read back.
    if (!store || summary.acknowledged.size === 0) return summary.failed === 0 ? 0 : 1;
    const { intact, missing, altered } = await verify(store, [...summary.acknowledged], sent, progressBar(summary.acknowledged.size, 'verifying'));
    process.stdout.write(`store: ${intact} of ${summary.acknowledged.size} acknowledged events stored intact, ${missing} missing, ${altered} altered\n`);
    return summary.failed === 0 && missing === 0 && altered === 0 ? 0 : 1;
  },
};

/** Reads each acknowledged event back, 16 at a time, and compares its payload with what was sent. */
async function verify(store: EventStore, ids: string[], sent: Map<string, string>, progress: Progress) {
  const tally = { intact: 0, missing: 0, altered: 0 };
  let done = 0;
  await mapLimited(ids, 16, async (id) => {
    const record = await store.get(id);
    if (!record) tally.missing++;
    else if (record.payload !== sent.get(id)) tally.altered++;
    else tally.intact++;
    progress(++done, record?.payload !== sent.get(id));
  });
  return tally;
}
