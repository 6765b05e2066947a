import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCallback } from '../../core/callback';
import { MemoryEventStore } from '../../core/memory-store';
import type { Settings } from '../../core/settings';

/** The core pipeline behind a plain node:http server on a spare loopback port, over a memory store. */
export interface CallbackServer {
  url: string;
  store: MemoryEventStore;
  close(): Promise<void>;
}

export async function startCallbackServer(settings: Settings): Promise<CallbackServer> {
  const store = new MemoryEventStore();
  const callback = createCallback({ settings, store, log: () => {} });
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const answer = await callback({ method: request.method, query: Object.fromEntries(url.searchParams), body: Buffer.concat(chunks) });
    response.writeHead(answer.statusCode, answer.headers).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dingtalk`,
    store,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
