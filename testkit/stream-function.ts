import { expect } from 'chai';
import type { EventReader } from '../core/listing';
import { LEASE_MARGIN_MS } from '../core/stream-lease';
import type { RelaySummary } from '../core/stream-relay';
import type { FakeStreamGateway } from './fake-stream-gateway';

/** One cloud's `stream` function under test: its handler over a real WebSocket to the fake gateway, into a real store. */
export interface StreamFunctionUnderTest {
  gateway: FakeStreamGateway;
  store: { list: EventReader['list'] };
  /** One invocation whose platform limit (Lambda's remaining time, FC's timeout) leaves the relay `leaseMs` before the margin. */
  invoke(leaseMs: number): Promise<RelaySummary>;
}

/**
 * What the `stream` function does on every cloud: holds the relay until the deadline its platform's
 * time limit sets, stores before it acks, stops taking frames at the deadline, answers what it holds
 * and closes well before the limit; the next lease picks up what the last one did not take.
 */
export function itHoldsLeases(subject: () => StreamFunctionUnderTest): void {
  const count = async () => (await subject().store.list({ limit: 1000 })).records.length;

  it('holds the connection until its deadline, storing each event before it acks it, and closes before the platform limit', async function () {
    const { gateway, store, invoke } = subject();
    const started = Date.now();
    const run = invoke(800);
    await gateway.until(() => gateway.open.length === 1, 5000, 'the lease connected');
    const ids = [1, 2, 3].map((n) => gateway.push({ eventType: 'user_add_org', eventId: `lease-${n}`, data: JSON.stringify({ userId: [`u${n}`] }) }));
    await gateway.until(() => gateway.acksWith('SUCCESS').length === 3);
    const stored = (await store.list({ limit: 10 })).records.map((record) => record.eventId).sort();
    expect(stored).to.deep.equal(ids);
    const summary = await run;
    const ended = Date.now() - started;
    expect(summary).to.include({ created: 3, opens: 1 });
    expect(ended, 'held the connection for its lease').to.be.at.least(700);
    expect(ended, 'ended before the platform limit').to.be.below(800 + LEASE_MARGIN_MS);
    await gateway.until(() => gateway.open.length === 0, 5000, 'the socket closed');
  });

  it('at its deadline stops taking frames and acks what it holds; the next lease stores the rest, each once', async function () {
    this.timeout(20_000);
    const { gateway, store, invoke } = subject();
    gateway.redeliverAfterMs = 300;
    const first = invoke(600);
    await gateway.until(() => gateway.open.length === 1, 5000, 'the first lease connected');
    await new Promise((resolve) => setTimeout(resolve, 450));
    for (let n = 0; n < 50; n += 1) gateway.push({ eventType: 'user_modify_org', eventId: `burst-${n}`, data: JSON.stringify({ userId: [`u${n}`] }) });
    await first;
    await gateway.until(() => gateway.open.length === 0, 5000, 'the first lease closed its socket');
    const acked = new Set(gateway.acksWith('SUCCESS').map((ack) => ack.eventId));
    const storedIds = new Set((await store.list({ limit: 1000 })).records.map((record) => record.eventId));
    for (const eventId of acked) expect(storedIds.has(eventId), `${eventId} acked SUCCESS but not stored`).to.equal(true);
    // The next leases, as the schedule starts them, until the gateway is owed nothing.
    for (let lease = 0; lease < 10 && gateway.unacked > 0; lease += 1) await invoke(500);
    expect(gateway.unacked).to.equal(0);
    expect(await count()).to.equal(50);
  });
}
