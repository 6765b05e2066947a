import { malformedEvent, type CallbackRequest, type CallbackResponse } from '../../core/callback';
import type { Environment } from '../../core/environment';
import { BadRequestError } from '../../core/errors';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLogger, type Logger } from '../../core/log';
import { callbackSetup, type AwsCallbackClients } from '../../providers/aws/setup';

/** The fields of an API Gateway REST API (payload 1.0) proxy event this shim reads. */
interface RestApiEvent {
  httpMethod: string;
  queryStringParameters?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: { requestId?: string };
}

/** The fields of an API Gateway HTTP API (payload 2.0) proxy event this shim reads. */
interface HttpApiEvent {
  version: '2.0';
  rawQueryString?: string;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string }; requestId?: string };
}

/** The field of the Lambda context this shim reads. */
interface LambdaContext {
  awsRequestId?: string;
}

/** What Lambda hands back to API Gateway; both payload versions accept this shape. */
export interface ProxyResult extends CallbackResponse {
  isBase64Encoded: false;
}

/** A Lambda handler for API Gateway proxy events. */
export type LambdaHandler = (event: unknown, context?: LambdaContext) => Promise<ProxyResult>;

/** What a handler is built from; tests inject their own. */
export interface AwsHandlerDeps extends AwsCallbackClients {
  /** Default `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: one JSON line per push on stdout. */
  log?: Logger;
}

/**
 * Builds the callback function's handler. Its setup (`callbackSetup` of `providers/aws/setup.ts`:
 * the DingTalk settings, from SSM or the environment, and the DynamoDB writer) runs at the first
 * invocation and is kept for the container's life; a failed setup (bad settings, all of them named,
 * or SSM down) fails that invocation, so Lambda logs it and API Gateway answers 5xx, and is tried
 * again on the next one.
 */
export function createHandler(deps: AwsHandlerDeps = {}): LambdaHandler {
  const { env = process.env, log = jsonLogger } = deps;
  const setup = lazySetup(() => callbackSetup(env, deps, log));

  return async (event, context) => {
    const pipeline = await setup();
    let request: CallbackRequest;
    try {
      request = decodeEvent(event);
    } catch (error) {
      return encode(malformedEvent((error as Error).message, context?.awsRequestId, log));
    }
    // Lambda's own id is the one its log lines (START, END, REPORT) carry; the gateway's is a fallback.
    return encode(await pipeline({ ...request, requestId: context?.awsRequestId ?? request.requestId }));
  };
}

/** The Lambda entry point of `serverless.aws.yml`. */
export const handler = createHandler();

/** Turns either payload version into the core's request; anything else is a {@link BadRequestError}. */
function decodeEvent(event: unknown): CallbackRequest {
  const candidate = (typeof event === 'object' && event !== null ? event : {}) as Partial<HttpApiEvent> & Partial<RestApiEvent>;
  if (candidate.version === '2.0' && typeof candidate.requestContext?.http?.method === 'string') return fromHttpApi(candidate as HttpApiEvent);
  if (typeof candidate.httpMethod === 'string') return fromRestApi(candidate as RestApiEvent);
  throw new BadRequestError('not an API Gateway proxy event');
}

function fromHttpApi(event: HttpApiEvent): CallbackRequest {
  // The parsed `queryStringParameters` joins repeated names with commas; the raw string keeps them apart.
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(event.rawQueryString ?? '')) query[name] ??= value;
  return {
    method: event.requestContext.http.method,
    query,
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded === true,
    requestId: event.requestContext.requestId,
  };
}

function fromRestApi(event: RestApiEvent): CallbackRequest {
  // `queryStringParameters` keeps the last of repeated names; the core reads the first.
  const query: Record<string, string | undefined> = { ...event.queryStringParameters };
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values?.[0] !== undefined) query[name] = values[0];
  }
  return {
    method: event.httpMethod,
    query,
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded === true,
    requestId: event.requestContext?.requestId,
  };
}

function encode(response: CallbackResponse): ProxyResult {
  return { ...response, isBase64Encoded: false };
}
