import { inspect } from 'node:util';
import { DEADLINES_MS } from './deadlines';
import { apiBaseProblem } from './dingtalk-api';
import { optional, optionalWholeNumber, readAll, required, type Environment } from './environment';
import { ConfigError } from './errors';
import { recoveredOwnerKey } from './recover';

/** DingTalk's OpenAPI base, where Stream connections are opened (`DINGTALK_OPENAPI_ENDPOINT`; overseas: `https://api.dingtalk.io`). */
export const DEFAULT_OPENAPI_ENDPOINT = 'https://api.dingtalk.com';

/** The bounds the relay keeps; tests shorten them. */
export interface RelayTiming {
  /** DingTalk's budget for an ack: a frame is answered within this of its arrival, stored or not. */
  ackBudgetMs: number;
  /** Of that budget, what is kept back for queueing and sending the ack: a put still running after the rest is answered `LATER`. */
  ackMarginMs: number;
  /** Frames being stored at once; more wait their turn. */
  concurrency: number;
  /** A WebSocket ping this often. */
  keepaliveMs: number;
  /** A socket with no frame and no pong for this long is replaced. */
  silentMs: number;
  /** The first wait before opening again after a failure; doubled at each failure in a row, with jitter. */
  backoffMs: number;
  /** The longest wait between attempts. */
  backoffCapMs: number;
  /** A connection that lived this long was fine: the next failure starts the backoff over. */
  stableMs: number;
  /** How long the `connections/open` call and the WebSocket handshake may take. */
  openTimeoutMs: number;
}

/** The bounds by default: every ack inside DingTalk's 3 s, a dead socket noticed within 40 s, no reconnect faster than 1 s after a failure nor slower than 30 s. */
export const DEFAULT_RELAY_TIMING: RelayTiming = {
  ackBudgetMs: DEADLINES_MS.stream,
  ackMarginMs: 500,
  concurrency: 32,
  keepaliveMs: 10_000,
  silentMs: 40_000,
  backoffMs: 1000,
  backoffCapMs: 30_000,
  stableMs: 60_000,
  openTimeoutMs: 10_000,
};

/** The validated Stream settings; they redact the secret when logged. */
export class StreamSettings {
  constructor(
    /** The OpenAPI base the `connections/open` call goes to. */
    readonly endpoint: string,
    /** An internal app's key or an ISV suite's (`clientId`). */
    readonly clientId: string,
    readonly clientSecret: string,
    /** The variable the secret came from, named when DingTalk refuses it. */
    readonly secretVariable: string,
    readonly kind: 'app' | 'suite',
    /** `DINGTALK_OWNER_KEY`'s list, for an internal app's ownerKey rule. */
    readonly ownerKeys: readonly string[] = [],
    readonly timing: RelayTiming = DEFAULT_RELAY_TIMING,
  ) {}

  /** The variable the key came from. */
  get keyVariable(): string {
    return this.kind === 'app' ? 'DINGTALK_APP_KEY' : 'DINGTALK_SUITE_KEY';
  }

  /**
   * The ownerKey a Stream event is filed under: the one this app's pushes and recovered items take
   * (the app's or suite's key, see `recoveredOwnerKey`), so the same event by any way is one record.
   */
  ownerKeyFor(corpId: string | undefined): string {
    return this.kind === 'suite'
      ? this.clientId
      : recoveredOwnerKey({ kind: 'app', appKey: this.clientId, appSecret: '', ownerKeys: this.ownerKeys }, corpId);
  }

  toJSON(): object {
    return { endpoint: this.endpoint, clientId: this.clientId, clientSecret: '[redacted]', kind: this.kind, timing: this.timing };
  }

  [inspect.custom](): string {
    return `StreamSettings ${JSON.stringify(this.toJSON())}`;
  }
}

/**
 * Whether the Stream relay runs: the app's credentials (`DINGTALK_APP_KEY` and `DINGTALK_APP_SECRET`,
 * or the suite's) are set and `DINGTALK_STREAM_ENABLED` is not `false`.
 */
export function streamEnabled(env: Environment): boolean {
  if (optional(env, 'DINGTALK_STREAM_ENABLED')?.toLowerCase() === 'false') return false;
  const pair = (key: string, secret: string) => optional(env, key) !== undefined && optional(env, secret) !== undefined;
  return pair('DINGTALK_SUITE_KEY', 'DINGTALK_SUITE_SECRET') || pair('DINGTALK_APP_KEY', 'DINGTALK_APP_SECRET');
}

/**
 * Reads the Stream settings: `DINGTALK_OPENAPI_ENDPOINT` (default {@link DEFAULT_OPENAPI_ENDPOINT}),
 * `DINGTALK_SUITE_KEY` and `DINGTALK_SUITE_SECRET` (an ISV suite) or `DINGTALK_APP_KEY` and
 * `DINGTALK_APP_SECRET` (an internal app, with `DINGTALK_OWNER_KEY` as recover reads it), and
 * optional `DINGTALK_STREAM_CONCURRENCY`.
 * @throws ConfigError naming every variable that is missing or invalid.
 */
export function loadStreamSettings(env: Environment, timing: Partial<RelayTiming> = {}): StreamSettings {
  const [endpoint, credentials, concurrency] = readAll(
    () => endpointOf(env),
    () => credentialsOf(env),
    () => optionalWholeNumber(env, 'DINGTALK_STREAM_CONCURRENCY', 1, 'frames'),
  );
  const ownerKeys = (env.DINGTALK_OWNER_KEY ?? '').split(',').map((value) => value.trim()).filter(Boolean);
  const bounds = { ...DEFAULT_RELAY_TIMING, ...(concurrency === undefined ? {} : { concurrency }), ...timing };
  return new StreamSettings(endpoint, credentials.clientId, credentials.clientSecret, credentials.secretVariable, credentials.kind, ownerKeys, bounds);
}

function endpointOf(env: Environment): string {
  const endpoint = optional(env, 'DINGTALK_OPENAPI_ENDPOINT') ?? DEFAULT_OPENAPI_ENDPOINT;
  const problem = apiBaseProblem(endpoint);
  if (problem !== undefined) throw new ConfigError('DINGTALK_OPENAPI_ENDPOINT', problem.replace('https://oapi.dingtalk.com', DEFAULT_OPENAPI_ENDPOINT));
  return endpoint.replace(/\/+$/, '');
}

function credentialsOf(env: Environment): { clientId: string; clientSecret: string; secretVariable: string; kind: 'app' | 'suite' } {
  const suiteKey = optional(env, 'DINGTALK_SUITE_KEY');
  if (suiteKey !== undefined) return { clientId: suiteKey, clientSecret: required(env, 'DINGTALK_SUITE_SECRET'), secretVariable: 'DINGTALK_SUITE_SECRET', kind: 'suite' };
  const [clientId, clientSecret] = readAll(() => required(env, 'DINGTALK_APP_KEY'), () => required(env, 'DINGTALK_APP_SECRET'));
  return { clientId, clientSecret, secretVariable: 'DINGTALK_APP_SECRET', kind: 'app' };
}
