import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { listenOnLoopback } from './ports';

/** One delivery as the receiver saw it, verified by the `standardwebhooks` package. */
export interface Delivery {
  id: string;
  timestamp: number;
  /** What `Webhook.verify` answered: the parsed body. */
  body: { type: string; timestamp: string; data: Record<string, unknown> & { id: string; payload: unknown } };
  /** The body as it arrived. */
  text: string;
  /** The status the receiver answered. */
  status: number;
  /** When it arrived (performance.now() of this process). */
  at: number;
}

/** How the receiver answers the n-th request (0-based): a status, or one after a delay or once `until` settles. */
export type Answer = number | { delayMs?: number; until?: Promise<unknown>; status: number };

/** A local Standard Webhooks consumer: verifies every request, answers as scripted. */
export interface WebhookReceiver {
  url: string;
  /** Every verified request, the failed attempts included, in arrival order. */
  deliveries: Delivery[];
  /** Requests that failed verification (none, unless something is wrong). */
  rejected: string[];
  /** Resolves once `count` deliveries were answered 2xx. */
  accepted(count: number): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** A fresh `whsec_` secret for a test. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('dingtalk-callback-test-webhook-key!!').toString('base64')}`;

/**
 * Starts a receiver on a loopback port that verifies each request with `standardwebhooks` (the
 * independent verifier), then answers `answer(n)` (default 204).
 */
export async function startWebhookReceiver(secret = TEST_WEBHOOK_SECRET, answer: (n: number) => Answer = () => 204): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const deliveries: Delivery[] = [];
  const rejected: string[] = [];
  const waiters: { count: number; resolve: (deliveries: Delivery[]) => void }[] = [];
  let requests = 0;
  const settle = () => {
    const ok = deliveries.filter((delivery) => delivery.status < 300);
    for (const waiter of [...waiters]) {
      if (ok.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(ok);
      }
    }
  };
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const planned = answer(requests++);
    const { delayMs = 0, until, status } = typeof planned === 'number' ? { status: planned } : planned;
    try {
      const body = verifier.verify(text, headersOf(request.headers)) as Delivery['body'];
      deliveries.push({ id: String(request.headers['webhook-id']), timestamp: Number(request.headers['webhook-timestamp']), body, text, status, at: performance.now() });
    } catch (error) {
      rejected.push((error as Error).message);
      response.writeHead(400).end();
      return;
    }
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await until;
    if (!response.destroyed) response.writeHead(status).end();
    settle();
  });
  const url = `${await listenOnLoopback(server)}/hook`;
  return {
    url,
    deliveries,
    rejected,
    accepted: (count) =>
      new Promise((resolve) => {
        waiters.push({ count, resolve });
        settle();
      }),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function headersOf(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
