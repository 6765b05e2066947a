import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from './ports';
import { createCallback } from '../core/callback';
import { MemoryEventStore } from '../core/memory-store';
import type { Settings } from '../core/settings';
import type { EventWriter } from '../core/store';

/** The core pipeline behind a plain node:http server on a spare loopback port, over a memory store unless given another. */
export interface CallbackServer<Store extends EventWriter = MemoryEventStore> {
  url: string;
  store: Store;
  close(): Promise<void>;
}

export async function startCallbackServer<Store extends EventWriter = MemoryEventStore>(settings: Settings, store: Store = new MemoryEventStore() as unknown as Store): Promise<CallbackServer<Store>> {
  const callback = createCallback({ settings, store, log: () => {} });
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const answer = await callback({ method: request.method, query: Object.fromEntries(url.searchParams), body: Buffer.concat(chunks) });
    response.writeHead(answer.statusCode, answer.headers).end(answer.body);
  });
  const base = await listenOnLoopback(server);
  return {
    url: `${base}/dingtalk`,
    store,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
