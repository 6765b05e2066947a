import type TableStore from 'tablestore';
import { createCallback, malformedEvent, type Callback, type CallbackRequest, type CallbackResponse } from '../../core/callback';
import { readAll, type Environment } from '../../core/environment';
import { BadRequestError } from '../../core/errors';
import { lazySetup } from '../../core/lazy-setup';
import { jsonLogger, type Logger } from '../../core/log';
import { loadSettings } from '../../core/settings';
import { tablestoreWriterSettings } from '../../providers/aliyun/settings';
import { createTablestoreClient, type TablestoreClientOptions } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventWriter } from '../../providers/aliyun/tablestore-writer';
import { keptPerRoleKeys, type RoleKeys } from '../../providers/aliyun/role-keys';

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

/** The parts of Function Compute's invocation context the handler reads. */
export interface FcContext {
  requestId?: string;
  /** Temporary STS keys of the service's RAM role; they rotate while the instance lives. */
  credentials?: RoleKeys;
}

/** How the handler answers Function Compute: an error (the invocation failed) or the response. */
export type FcCallback = (error: Error | null, response?: ApiGatewayResponse) => void;

/** A Function Compute event handler. */
export type FcHandler = (event: unknown, context: FcContext, callback: FcCallback) => void;

/** What a handler is built from; tests inject their own. */
export interface AliyunHandlerDeps {
  /** Default `process.env`, read at the first invocation. */
  env?: Environment;
  /** Makes a Tablestore client from the invocation's role keys. Default: `createTablestoreClient`. */
  tablestore?: (options: TablestoreClientOptions) => TableStore.Client;
  /** Default: one JSON line per push on stdout. */
  log?: Logger;
}

/**
 * Builds the callback function's handler. Its setup (the DingTalk settings and the Tablestore
 * writer settings of `providers/aliyun/settings.ts`) runs at the first invocation and is kept for
 * the instance's life; a failed setup (bad settings, all of them named) fails that invocation, so
 * Function Compute logs it and API Gateway answers 5xx, and is tried again on the next one. The
 * Tablestore client is made from each invocation's role keys and kept until they rotate.
 */
export function createHandler(deps: AliyunHandlerDeps = {}): FcHandler {
  const { env = process.env, tablestore = createTablestoreClient, log = jsonLogger } = deps;
  // The settings, and a pipeline per set of the role's keys (rebuilt when they rotate).
  const setup = lazySetup(() => {
    const [settings, { tableName, endpoint, instance, putDeadlineMs }] = readAll(() => loadSettings(env), () => tablestoreWriterSettings(env));
    return keptPerRoleKeys(({ accessKeyId, accessKeySecret, securityToken }: RoleKeys): Callback => {
      // A hung request must not outlive the put's deadline: the function only ever puts.
      const client = tablestore({ endpoint, instance, accessKeyId, secretAccessKey: accessKeySecret, securityToken, timeoutMs: putDeadlineMs });
      return createCallback({ settings, store: new TablestoreEventWriter({ tableName, client, putDeadlineMs }), log });
    });
  });

  const invoke = async (event: unknown, context: FcContext): Promise<ApiGatewayResponse> => {
    const pipelineFor = await setup();
    let request: CallbackRequest;
    try {
      request = decodeEvent(event, context.requestId);
    } catch (error) {
      return encode(malformedEvent((error as Error).message, context.requestId, log));
    }
    if (!context.credentials) throw new Error('Function Compute passed no credentials: the service needs a RAM role allowed to write to Tablestore');
    return encode(await pipelineFor(context.credentials)(request));
  };

  return (event, context, callback) => {
    invoke(event, context).then(
      (response) => callback(null, response),
      (error: Error) => callback(error),
    );
  };
}

/** The Function Compute entry of `serverless.aliyun.yml`, `handlers/aliyun/callback.handler`. */
export const handler = createHandler();

/** Turns the API Gateway event into the core's request; anything malformed is a {@link BadRequestError}. */
function decodeEvent(event: unknown, requestId: string | undefined): CallbackRequest {
  const malformed = (what: string) => new BadRequestError(`not an API Gateway request: ${what}`);
  let fields: ApiGatewayEvent;
  try {
    const text = Buffer.isBuffer(event) || event instanceof Uint8Array ? Buffer.from(event).toString('utf8') : event;
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
