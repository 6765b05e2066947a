import { deliver, type Delivery, type Target } from './deliver';
import { mapLimited } from '../core/pool';
import { percentile } from './stats';

/** The tally of many deliveries. */
export interface SendSummary {
  sent: number;
  ok: number;
  failed: number;
  /** Pushes that got an HTTP answer, whatever it said; the latencies and the rate are theirs. */
  answered: number;
  p50Ms: number;
  p99Ms: number;
  /** Failure reasons and how often each came. */
  problems: Map<string, number>;
  /** The distinct record ids acknowledged with a valid reply. */
  acknowledged: Set<string>;
  /** Some push found nothing answering at the URL. */
  unreachable: boolean;
  /** The function's error codes, each once (`bad_signature`…). */
  codes: Set<string>;
  elapsedMs: number;
}

export interface SendManyOptions {
  count: number;
  concurrency: number;
  /** The message of the `index`-th push. */
  message: (index: number) => string;
  /** Called after every delivery, for progress display. */
  onDelivery?: (done: number, delivery: Delivery) => void;
}

/** Delivers `count` pushes with at most `concurrency` in flight, and tallies the outcome. */
export async function sendMany(target: Target, options: SendManyOptions): Promise<SendSummary> {
  const latencies: number[] = [];
  const summary: SendSummary = { sent: 0, ok: 0, failed: 0, answered: 0, p50Ms: 0, p99Ms: 0, problems: new Map(), acknowledged: new Set(), unreachable: false, codes: new Set(), elapsedMs: 0 };
  const started = performance.now();
  await mapLimited(Array.from({ length: options.count }, (_, index) => index), options.concurrency, async (index) => {
    const delivery = await deliver(target, options.message(index));
    summary.sent++;
    if (!delivery.unreachable) latencies.push(delivery.latencyMs);
    if (delivery.ok) {
      summary.ok++;
      for (const id of delivery.rows ?? (delivery.id ? [delivery.id] : [])) summary.acknowledged.add(id);
    } else {
      summary.failed++;
      summary.unreachable ||= delivery.unreachable === true;
      if (delivery.code) summary.codes.add(delivery.code);
      const problem = `${delivery.status ? `${delivery.status} ` : ''}${delivery.problem ?? ''}`;
      summary.problems.set(problem, (summary.problems.get(problem) ?? 0) + 1);
    }
    options.onDelivery?.(summary.sent, delivery);
  });
  summary.elapsedMs = performance.now() - started;
  summary.answered = latencies.length;
  latencies.sort((a, b) => a - b);
  summary.p50Ms = percentile(latencies, 0.5);
  summary.p99Ms = percentile(latencies, 0.99);
  return summary;
}
