// The store-to-delivery delay under `npm start`: `node --import tsx bench/forward-delay.ts [count]`.
// Starts the local stack on spare ports with a webhook receiver, sends `count` pushes one after
// another, and for each event measures from its `receivedAt` (stamped just before the put, by the
// same machine's clock) to the moment the receiver had the verified delivery. Prints p50 / p99.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealPush, pushUrl } from '../core/dingtalk-side';
import { loadSettings } from '../core/settings';
import { percentile } from '../cli/stats';
import { DEV_CREDENTIALS, DEV_FORWARD_SECRET } from '../providers/local/dev-credentials';
import { eventText } from '../testkit/fixtures';
import { startLocalStack } from '../testkit/local-stack';
import { startWebhookReceiver } from '../testkit/webhook-receiver';

async function main(count: number): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'forward-delay-'));
  const receiver = await startWebhookReceiver(DEV_FORWARD_SECRET);
  const arrivals = new Map<string, number>();
  const started = performance.now();
  const epochAt = (at: number) => Date.now() - (performance.now() - at);
  const stack = await startLocalStack(dataDir, { DINGTALK_FORWARD_URL: receiver.url });
  try {
    const settings = loadSettings(DEV_CREDENTIALS);
    for (let n = 0; n < count; n += 1) {
      const sealed = sealPush(settings, eventText('bpms_task_change', { taskId: `task-${n}-${started}` }), DEV_CREDENTIALS.DINGTALK_OWNER_KEY);
      const response = await fetch(pushUrl(stack.pushUrl, sealed), { method: 'POST', body: sealed.body });
      await response.text();
      if (response.status !== 200) throw new Error(`push ${n} answered ${response.status}`);
    }
    const deliveries = await receiver.accepted(count);
    for (const delivery of deliveries) arrivals.set(delivery.id, epochAt(delivery.at) - Date.parse(delivery.body.timestamp));
    const delays = [...arrivals.values()].sort((a, b) => a - b);
    // The first delivery waits for serverless-offline to start the forward function's worker.
    const warm = delays.length > 1 ? [...arrivals.values()].slice(1).sort((a, b) => a - b) : delays;
    const line = (label: string, values: number[]) => `${label}: p50 ${percentile(values, 0.5).toFixed(0)} ms, p99 ${percentile(values, 0.99).toFixed(0)} ms, max ${values.at(-1)?.toFixed(0)} ms`;
    process.stdout.write(`${count} events, load ${loadavg()[0]?.toFixed(2)}\n${line('all', delays)}\n${line('after the first', warm)}\nfirst delivery: ${[...arrivals.values()][0]?.toFixed(0)} ms\n`);
  } finally {
    await stack.stop();
    await receiver.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

void main(Number(process.argv[2] ?? 200));
