import WebSocket from 'ws';
import type { EventRecord } from '../core/events';
import type { EventWriter, PutOutcome } from '../core/store';
import { runRelay, wsConnect, type FrameOutcome, type RelayOptions, type RelayStatus, type RelaySummary } from '../core/stream-relay';
import { loadStreamSettings, type RelayTiming } from '../core/stream-settings';
import type { FakeStreamGateway } from './fake-stream-gateway';

/** Bounds short enough for tests: a silent socket is noticed in well under a second, backoff starts at 20 ms. */
export const TEST_TIMING: Partial<RelayTiming> = { keepaliveMs: 50, silentMs: 300, backoffMs: 20, backoffCapMs: 200, stableMs: 2000, openTimeoutMs: 2000 };

/** The environment a relay takes to reach `gateway` at `base`. */
export function gatewayEnv(gateway: FakeStreamGateway, base: string): Record<string, string> {
  return { DINGTALK_OPENAPI_ENDPOINT: base, DINGTALK_APP_KEY: gateway.clientId, DINGTALK_APP_SECRET: gateway.clientSecret };
}

/** A relay running against the fake gateway, with what it logged and reported; `stop()` ends it as Ctrl-C does. */
export interface RunningRelay {
  done: Promise<RelaySummary>;
  stop(): Promise<RelaySummary>;
  logs: object[];
  frames: FrameOutcome[];
  statuses: RelayStatus[];
}

export function startRelay(env: Record<string, string | undefined>, writer: EventWriter, options: Partial<RelayOptions> & { timing?: Partial<RelayTiming> } = {}): RunningRelay {
  const controller = new AbortController();
  const logs: object[] = [];
  const frames: FrameOutcome[] = [];
  const statuses: RelayStatus[] = [];
  const done = runRelay({
    settings: loadStreamSettings(env, { ...TEST_TIMING, ...options.timing }),
    writer,
    connect: wsConnect(WebSocket),
    signal: controller.signal,
    log: (entry) => logs.push(entry),
    onFrame: (frame) => frames.push(frame),
    onStatus: (status) => statuses.push(status),
    ...options,
  });
  done.catch(() => undefined);
  return {
    done,
    logs,
    frames,
    statuses,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

/** A writer over `inner` that can be made to fail or to hold its puts, and notes when each record became readable. */
export class ControlledWriter implements EventWriter {
  failing = false;
  delayMs = 0;
  readonly storedAt = new Map<string, number>();
  puts = 0;

  constructor(private readonly inner: EventWriter) {}

  async put(record: EventRecord): Promise<PutOutcome> {
    this.puts += 1;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failing) throw new Error('store down');
    const outcome = await this.inner.put(record);
    if (!this.storedAt.has(record.id)) this.storedAt.set(record.id, Date.now());
    return outcome;
  }
}
