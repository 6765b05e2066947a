import { HANDSHAKES, type EventSource } from '../core/events';
import { replay, type ForwardLog, type RetryPolicy, type Sink } from '../core/forward';
import { reindentJson } from '../core/json-text';
import { MAX_LIST_LIMIT, QueryError, type EventQuery, type EventReader } from '../core/listing';
import { dingtalkMonth, monthUsage } from '../core/usage';
import { deliver, type Target } from '../cli/deliver';
import { EVENT_FAMILIES, samplePayload } from '../cli/event-payloads';
import type { DeliveryBook, DeliveryState } from './deliveries';
import { eventPage, SOURCES } from './event-pages';

/** What the page's API is built from: `npm start` hands in its store, sinks and push target. */
export interface InspectorApiOptions {
  store: EventReader;
  deliveries: DeliveryBook;
  /** Where events are forwarded, when forwarding is on: the forward function's sinks and type filter. */
  forward?: { sinks: readonly Sink[]; types: (eventType: string) => boolean; retry?: RetryPolicy };
  /** Where a sample push goes, and as whom: the callback `npm start` serves, with its credentials. */
  target: Target;
}

/** An answer of the API: a status and a JSON body. */
export interface ApiAnswer {
  status: number;
  body: object;
}

/** An answer that is a refusal: `{"error": code, "message": …}`, the message saying what to do. */
export function refusal(status: number, error: string, message: string): ApiAnswer {
  return { status, body: { error, message } };
}

/** The types a sample push may be of: every type `send` knows but the URL checks, which are not stored. */
export const SAMPLE_TYPES = Object.values(EVENT_FAMILIES)
  .flat()
  .filter((type) => !HANDSHAKES.has(type));

const LIST_PARAMETERS = new Set(['type', 'source', 'instance', 'since', 'until', 'cursor', 'limit']);

/** The API's routes: `GET /api/status`, `GET /api/usage`, `GET /api/events`, `GET /api/events/<id>`, `POST /api/events/<id>/redeliver`, `POST /api/samples`. */
export function inspectorApi(options: InspectorApiOptions) {
  const { store, deliveries, forward, target } = options;

  const delivery = (id: string, eventType: string): DeliveryState | { state: 'not_forwarded' | 'unknown' | 'off'; reason: string } => {
    if (!forward) return { state: 'off', reason: 'forwarding is off: set DINGTALK_FORWARD_URL and restart npm start (docs/forward.md)' };
    if (HANDSHAKES.has(eventType)) return { state: 'not_forwarded', reason: 'URL checks are answered, never forwarded' };
    if (!forward.types(eventType)) return { state: 'not_forwarded', reason: 'its type is not among DINGTALK_FORWARD_TYPES' };
    return deliveries.of(id) ?? { state: 'unknown', reason: 'no delivery seen since npm start started: re-deliver it to be sure' };
  };

  return {
    async status(): Promise<ApiAnswer> {
      const sinks = forward?.sinks.map((sink) => sink.name) ?? [];
      return { status: 200, body: { forwarding: sinks, sampleTypes: SAMPLE_TYPES } };
    },

    /** This month's (DingTalk's, UTC+8) stored events against the push quota, as `dingtalk-callback usage` counts them. */
    async usage(): Promise<ApiAnswer> {
      const { month, events, counted, exempt, quota, reached, reachesQuotaOn } = await monthUsage(store, dingtalkMonth(new Date()));
      return { status: 200, body: { month, events, counted, exempt, quota, reached, reachesQuotaOn } };
    },

    async list(parameters: URLSearchParams): Promise<ApiAnswer> {
      for (const name of parameters.keys()) if (!LIST_PARAMETERS.has(name)) return refusal(400, 'bad_query', `unknown parameter ${JSON.stringify(name)}: use ${[...LIST_PARAMETERS].join(', ')}`);
      const text = (name: string) => parameters.get(name) || undefined;
      const source = text('source') as EventSource | undefined;
      if (source && !SOURCES.includes(source)) return refusal(400, 'bad_query', `source must be one of ${SOURCES.join(', ')}`);
      const limitText = text('limit');
      const limit = limitText === undefined ? 50 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) return refusal(400, 'bad_query', `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`);
      const query: EventQuery = { eventType: text('type'), processInstanceId: text('instance'), since: text('since'), until: text('until'), cursor: text('cursor'), limit };
      try {
        return { status: 200, body: await eventPage(store, query, source) };
      } catch (error) {
        if (error instanceof QueryError) return refusal(400, 'bad_query', error.message);
        throw error;
      }
    },

    /** One event: its fields, its payload verbatim and re-indented (numbers as written), its onward delivery. */
    async get(id: string): Promise<ApiAnswer> {
      const record = await store.get(id);
      if (!record) return notFound(id);
      const { payload, ...fields } = record;
      let pretty: string | null;
      try {
        pretty = reindentJson(payload);
      } catch {
        pretty = null;
      }
      return { status: 200, body: { record: fields, payload, pretty, delivery: delivery(record.id, record.eventType) } };
    },

    /** Delivers one stored event again to every sink, as `dingtalk-callback forward` does. */
    async redeliver(id: string): Promise<ApiAnswer> {
      if (!forward) return refusal(409, 'forwarding_off', 'forwarding is off: set DINGTALK_FORWARD_URL (or DINGTALK_EVENT_BUS) and restart npm start (docs/forward.md)');
      const record = await store.get(id);
      if (!record) return notFound(id);
      const now = delivery(record.id, record.eventType);
      if (now.state === 'not_forwarded') return refusal(409, 'not_forwarded', `this event is never forwarded: ${'reason' in now ? now.reason : ''}`);
      const lines: ForwardLog[] = [];
      const result = await replay([record], { sinks: forward.sinks, ...(forward.retry && { retry: forward.retry }), log: (line) => void lines.push(line) });
      deliveries.redelivered(record.id, result, lines);
      return { status: 200, body: { delivery: deliveries.of(record.id) } };
    },

    /** Pushes a fresh sample event of `type` to the callback as DingTalk would, as `dingtalk-callback send` does. */
    async sample(body: unknown): Promise<ApiAnswer> {
      const type = (body as { type?: unknown } | null)?.type;
      if (typeof type !== 'string' || !SAMPLE_TYPES.includes(type)) return refusal(400, 'bad_type', `type must be one of the sample types: ${SAMPLE_TYPES.join(', ')}`);
      const result = await deliver(target, JSON.stringify(samplePayload(type, target.ownerKey)));
      if (result.ok) return { status: 200, body: { ok: true, id: result.id ?? null, rows: result.rows ?? null } };
      return refusal(502, 'push_failed', `the callback did not take the push: ${result.problem ?? `HTTP ${result.status}`}`);
    },
  };
}

export type InspectorApi = ReturnType<typeof inspectorApi>;

function notFound(id: string): ApiAnswer {
  return refusal(404, 'not_found', `no event with id ${JSON.stringify(id.slice(0, 600))}: ids are those the list shows`);
}
