import { malformedEvent, type CallbackRequest, type CallbackResponse } from '../../core/callback';
import type { Environment } from '../../core/environment';
import { BadRequestError } from '../../core/errors';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLogger, type Logger } from '../../core/log';
import { eventBytes, fcHandler, roleKeysOf, type FcHandler } from '../../providers/aliyun/function-compute';
import { callbackSetup, type AliyunClients } from '../../providers/aliyun/setup';

/**
 * The fields the handler reads of an API Gateway request, which Function Compute hands over as a
 * Buffer of `{path, httpMethod, headers, queryParameters, pathParameters, body, isBase64Encoded}`.
 */
interface ApiGatewayEvent {
  httpMethod?: unknown;
  queryParameters?: unknown;
  body?: unknown;
  isBase64Encoded?: unknown;
}

/** What API Gateway expects back from the function; anything else it answers with 503. */
export interface ApiGatewayResponse {
  isBase64Encoded: false;
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A Function Compute handler of API Gateway requests. */
export type FcHttpHandler = FcHandler<ApiGatewayResponse>;

/** What a handler is built from; tests inject their own. */
export interface AliyunHandlerDeps extends AliyunClients {
  /** Default `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: one JSON line per push on stdout. */
  log?: Logger;
}

/**
 * Builds the callback function's handler. Its setup (`callbackSetup` of `providers/aliyun/setup.ts`)
 * runs at the first invocation and is kept for the instance's life; a failed setup (bad settings, all of them named) fails that invocation, so
 * Function Compute logs it and API Gateway answers 5xx, and is tried again on the next one. The
 * Tablestore client is made from each invocation's role keys and kept until they rotate.
 */
export function createHandler(deps: AliyunHandlerDeps = {}): FcHttpHandler {
  const { env = process.env, log = jsonLogger } = deps;
  const setup = lazySetup(() => callbackSetup(env, deps, log));
  return fcHandler(async (event, context) => {
    const pipelineFor = await setup();
    let request: CallbackRequest;
    try {
      request = decodeEvent(event, context.requestId);
    } catch (error) {
      return encode(malformedEvent((error as Error).message, context.requestId, log));
    }
    return encode(await pipelineFor(roleKeysOf(context, 'write to Tablestore'))(request));
  });
}

/** The Function Compute entry of `serverless.aliyun.yml`, `handlers/aliyun/callback.handler`. */
export const handler = createHandler();

/** Turns the API Gateway event into the core's request; anything malformed is a {@link BadRequestError}. */
function decodeEvent(event: unknown, requestId: string | undefined): CallbackRequest {
  const malformed = (what: string) => new BadRequestError(`not an API Gateway request: ${what}`);
  let fields: ApiGatewayEvent;
  try {
    const bytes = eventBytes(event);
    const text = bytes ? Buffer.from(bytes).toString('utf8') : event;
    fields = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    throw malformed('the event is not JSON');
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw malformed('the event is not a JSON object');
  const { httpMethod, queryParameters = {}, body, isBase64Encoded = false } = fields;
  if (typeof httpMethod !== 'string') throw malformed('httpMethod is not a string');
  if (typeof queryParameters !== 'object' || Array.isArray(queryParameters)) throw malformed('queryParameters is not an object');
  if (body !== undefined && body !== null && typeof body !== 'string') throw malformed('body is not a string');
  if (typeof isBase64Encoded !== 'boolean' && isBase64Encoded !== 'true' && isBase64Encoded !== 'false') throw malformed('isBase64Encoded is not a boolean');
  const query: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(queryParameters ?? {})) {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') query[name] = first;
  }
  return { method: httpMethod, query, body: body ?? null, isBase64Encoded: isBase64Encoded === true || isBase64Encoded === 'true', requestId };
}

function encode(response: CallbackResponse): ApiGatewayResponse {
  return { isBase64Encoded: false, statusCode: response.statusCode, headers: response.headers, body: response.body };
}
