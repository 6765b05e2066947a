import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { namesLocalServer } from '../core/dingtalk-api';
import { inspectorApi, refusal, type ApiAnswer, type InspectorApiOptions } from './api';

/** The page's files, served as they are: no build step. */
const PAGE_DIR = join(__dirname, 'page');
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * Every answer's headers. The policy lets the page run its own script and style and talk to its own
 * origin only, and with Trusted Types no string can become HTML or script: the page builds its DOM
 * from text nodes, so a payload holding `<script>` can never run.
 */
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** What a request from another origin is told (and, being in no function, what shows that no bundle holds this server). */
export const CROSS_ORIGIN_MESSAGE = 'the inspector API answers its own page only';

/** The largest request body the API takes: a sample push's type. */
const MAX_BODY_BYTES = 4096;

/** How often an idle event stream carries a comment, so that nothing between closes it. */
const KEEPALIVE_MS = 20_000;

export interface InspectorOptions extends InspectorApiOptions {
  /** The port on 127.0.0.1 (0: one the OS picks). */
  port: number;
}

/** The inspector, running. */
export interface Inspector {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** Tells every open page that an event was stored. */
  stored(id: string): void;
  close(): Promise<void>;
}

/**
 * Serves the inspector page and its JSON API on 127.0.0.1 only. Every request must name this
 * server as its host (so a DNS-rebound name gets nothing); the API answers only its own page: a
 * request another origin sent is refused with 403 before anything is read. New events and delivery
 * changes reach open pages as server-sent events on `/api/stream`.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const api = inspectorApi(options);
  const pages = Object.fromEntries(Object.entries(FILES).map(([path, { file, type }]) => [path, { body: readFileSync(join(PAGE_DIR, file)), type }]));
  const streams = new Set<ServerResponse>();
  let port = 0;

  const send = (response: ServerResponse, event: string, id: string) => response.write(`event: ${event}\ndata: ${JSON.stringify({ id })}\n\n`);
  const broadcast = (event: string, id: string) => {
    for (const response of streams) send(response, event, id);
  };
  const stopListening = options.deliveries.listen((id) => broadcast('delivery', id));

  const server = createServer((request, response) => {
    void serve(request, response).catch(() => {
      // The store failed, or something else did: the page is told to try again, never why in detail.
      if (!response.headersSent) answer(response, refusal(503, 'unavailable', 'the local store did not answer: is npm start still running? Try again'));
      else response.end();
    });
  });

  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const refused = guard(request, url.pathname, port);
    if (refused) return answer(response, refused);
    const page = pages[url.pathname];
    if (page) {
      if (method !== 'GET' && method !== 'HEAD') return answer(response, refusal(405, 'method_not_allowed', 'the page is only read (GET)'), { allow: 'GET, HEAD' });
      response.writeHead(200, { ...HEADERS, 'content-type': page.type, 'content-length': page.body.length });
      return response.end(method === 'HEAD' ? undefined : page.body);
    }
    const route = routeOf(url.pathname, method);
    if ('status' in route) return answer(response, route, route.status === 405 ? { allow: route.allow } : {});
    switch (route.name) {
      case 'stream':
        response.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
        response.write('retry: 2000\n\n');
        streams.add(response);
        response.on('close', () => streams.delete(response));
        return;
      case 'status':
        return answer(response, await api.status());
      case 'usage':
        return answer(response, await api.usage());
      case 'list':
        return answer(response, await api.list(url.searchParams));
      case 'get':
        return answer(response, await api.get(route.id));
      case 'redeliver':
        return answer(response, await api.redeliver(route.id));
      case 'sample': {
        const body = await jsonBody(request);
        return answer(response, 'status' in body ? body : await api.sample(body.value));
      }
    }
  };

  const keepalive = setInterval(() => {
    for (const response of streams) response.write(': keepalive\n\n');
  }, KEEPALIVE_MS);
  keepalive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    stored: (id) => broadcast('stored', id),
    close: () => {
      stopListening();
      clearInterval(keepalive);
      for (const response of streams) response.end();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

type Route = { name: 'stream' | 'status' | 'usage' | 'list' | 'sample' } | { name: 'get' | 'redeliver'; id: string } | (ApiAnswer & { allow?: string });

/** Which API route a path and method name, or the refusal: 404 for no route, 405 for a method it does not take. */
function routeOf(path: string, method: string): Route {
  const only = (wanted: string, route: Route): Route => (method === wanted ? route : { ...refusal(405, 'method_not_allowed', `${path} takes ${wanted} only`), allow: wanted });
  if (path === '/api/stream') return only('GET', { name: 'stream' });
  if (path === '/api/status') return only('GET', { name: 'status' });
  if (path === '/api/usage') return only('GET', { name: 'usage' });
  if (path === '/api/events') return only('GET', { name: 'list' });
  if (path === '/api/samples') return only('POST', { name: 'sample' });
  const match = /^\/api\/events\/([^/]+)(\/redeliver)?$/.exec(path);
  if (!match) return refusal(404, 'not_found', `nothing at ${path.slice(0, 200)}: the page is at /`);
  let id: string;
  try {
    id = decodeURIComponent(match[1]!);
  } catch {
    return refusal(400, 'bad_id', 'the event id in the path is not percent-encoded UTF-8');
  }
  return match[2] ? only('POST', { name: 'redeliver', id }) : only('GET', { name: 'get', id });
}

/**
 * The refusal of a request that is not from this page: a Host other than this server's (a
 * DNS-rebound name), and for the API an `Origin` other than its own or a `Sec-Fetch-Site` other
 * than same-origin (a navigation typed in the address bar is `none`, and may read). A request
 * without either header comes from no browser (curl, a script on this machine) and is served.
 * A POST must be JSON, which no cross-origin form can send without asking first.
 */
function guard(request: IncomingMessage, path: string, port: number): ApiAnswer | undefined {
  const host = request.headers.host ?? '';
  if (!namesLocalServer(host, port)) return refusal(403, 'wrong_host', `the inspector answers at http://127.0.0.1:${port}/ only`);
  if (!path.startsWith('/api/')) return undefined;
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const navigation = site === 'none' && request.method === 'GET';
  if ((origin !== undefined && origin !== `http://${host}`) || (site !== undefined && site !== 'same-origin' && !navigation)) {
    return refusal(403, 'cross_origin', CROSS_ORIGIN_MESSAGE);
  }
  if (request.method === 'POST' && !/^application\/json(;|$)/i.test(request.headers['content-type'] ?? '')) return refusal(415, 'json_only', 'send the body as application/json');
  return undefined;
}

/** The request's JSON body, or the refusal of one too large or not JSON. */
async function jsonBody(request: IncomingMessage): Promise<{ value: unknown } | ApiAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return refusal(413, 'too_large', `the body may hold ${MAX_BODY_BYTES} bytes at most`);
    chunks.push(chunk as Buffer);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return refusal(400, 'bad_json', 'the body is not JSON');
  }
}

function answer(response: ServerResponse, { status, body }: ApiAnswer, extra: Record<string, string | undefined> = {}): void {
  const text = JSON.stringify(body);
  const headers = Object.fromEntries(Object.entries(extra).filter((entry): entry is [string, string] => entry[1] !== undefined));
  response.writeHead(status, { ...HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
