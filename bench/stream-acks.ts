import WebSocket from 'ws';
import { DynamoDbEventStore } from '../providers/aws/dynamodb-store';
import { ensureEventTable } from '../providers/local/events-table';
import { LOCAL_TABLE_NAME } from '../providers/local/local-dynamodb';
import { runRelay, wsConnect } from '../core/stream-relay';
import { DEFAULT_RELAY_TIMING, loadStreamSettings } from '../core/stream-settings';
import { allRecords } from '../core/listing';
import { startTestDynamoDb } from '../testkit/dynamodb';
import { FakeStreamGateway } from '../testkit/fake-stream-gateway';

/** What a burst over one Stream connection gave. */
export interface StreamAckResult {
  /** From a frame's arrival at the relay to its ack sent, the put included: median and 99th percentile. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Acked SUCCESS, LATER; records stored (each event once when `stored` equals the burst). */
  success: number;
  later: number;
  stored: number;
  /** From the first push to the last SUCCESS, as the gateway saw it. */
  wallMs: number;
}

/**
 * Pushes `count` events in one burst over one connection of the fake gateway to the relay with its
 * default bounds (32 puts at once, 3 s budget), storing into an embedded DynamoDB (dynalite) as
 * `npm start` and `listen` do; re-pushes are held off so that every event is delivered once.
 */
export async function measureStreamAcks(count: number): Promise<StreamAckResult> {
  const dynamo = await startTestDynamoDb();
  const gateway = new FakeStreamGateway();
  const controller = new AbortController();
  try {
    await ensureEventTable(dynamo.client, LOCAL_TABLE_NAME);
    const base = await gateway.start();
    gateway.redeliverAfterMs = 600_000;
    const settings = loadStreamSettings({ DINGTALK_OPENAPI_ENDPOINT: base, DINGTALK_APP_KEY: gateway.clientId, DINGTALK_APP_SECRET: gateway.clientSecret });
    const store = new DynamoDbEventStore({ tableName: LOCAL_TABLE_NAME, client: dynamo.client, putDeadlineMs: DEFAULT_RELAY_TIMING.ackBudgetMs - DEFAULT_RELAY_TIMING.ackMarginMs });
    const latencies: number[] = [];
    const done = runRelay({ settings, writer: store, connect: wsConnect(WebSocket), signal: controller.signal, log: () => {}, onFrame: (frame) => latencies.push(frame.ackMs) });
    await gateway.until(() => gateway.open.length === 1, 10_000, 'the relay to connect');
    const [connection] = gateway.open;
    const started = Date.now();
    for (let n = 0; n < count; n++) {
      gateway.push({ eventType: 'bpms_instance_change', eventId: `burst-${n}`, data: JSON.stringify({ processInstanceId: `proc-${n}`, title: '张三提交的请假申请', result: 'agree', type: 'finish' }) }, connection);
    }
    await gateway.until(() => gateway.acks.length >= count, 120_000, `${count} acks`);
    const wallMs = Date.now() - started;
    controller.abort();
    await done;
    let stored = 0;
    for await (const record of allRecords(store, { eventType: 'bpms_instance_change' })) if (record.source === 'stream') stored += 1;
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (share: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]! * 10) / 10;
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), success: gateway.acksWith('SUCCESS').length, later: gateway.acksWith('LATER').length, stored, wallMs };
  } finally {
    controller.abort();
    await gateway.close();
    dynamo.client.destroy();
    await dynamo.server.close();
  }
}
