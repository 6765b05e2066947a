import { createCallback, malformedEvent, type Callback, type CallbackRequest, type CallbackResponse } from '../../core/callback';
import { BadRequestError } from '../../core/errors';
import { jsonLogger, type Logger } from '../../core/log';
import { loadSettings, type Environment } from '../../core/settings';
import { createTablestoreClient, tablestoreLocation } from '../../providers/aliyun/tablestore-client';
import { TablestoreEventWriter } from '../../providers/aliyun/tablestore-writer';

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
  credentials?: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

export type FcCallback = (error: Error | null, response?: ApiGatewayResponse) => void;

/** A Function Compute event handler. */
export type FcHandler = (event: unknown, context: FcContext, callback: FcCallback) => void;

/**
 * Builds the handler from the function's environment: the DingTalk settings (validated now),
 * `EVENTS_TABLE`, `TABLESTORE_ENDPOINT` and `TABLESTORE_INSTANCE`. The Tablestore client is made
 * from each invocation's credentials and kept until they change. One JSON log line per push goes
 * to `log` (stdout by default).
 * @throws ConfigError naming the first variable that is missing or invalid.
 */
export function createHandler(env: Environment, { log = jsonLogger }: { log?: Logger } = {}): FcHandler {
  const settings = loadSettings(env);
  const { tableName, endpoint, instance } = tablestoreLocation(env);
  let current: { keys: string; callback: Callback } | undefined;

  const callbackFor = ({ accessKeyId, accessKeySecret, securityToken }: NonNullable<FcContext['credentials']>): Callback => {
    const keys = `${accessKeyId}\n${securityToken ?? ''}`;
    if (current?.keys !== keys) {
      const client = createTablestoreClient({ endpoint, instance, accessKeyId, secretAccessKey: accessKeySecret, securityToken });
      current = { keys, callback: createCallback({ settings, store: new TablestoreEventWriter({ tableName, client }), log }) };
    }
    return current.callback;
  };

  return (event, context, callback) => {
    let request: CallbackRequest;
    try {
      request = decodeEvent(event, context.requestId);
    } catch (error) {
      callback(null, encode(malformedEvent((error as Error).message, context.requestId, log)));
      return;
    }
    if (!context.credentials) {
      callback(new Error('Function Compute passed no credentials: the service needs a RAM role allowed to write to Tablestore'));
      return;
    }
    callbackFor(context.credentials)(request).then(
      (response) => callback(null, encode(response)),
      (error: Error) => callback(error),
    );
  };
}

let configured: FcHandler | undefined;

/**
 * The Function Compute entry, `handlers/aliyun/callback.handler`. It configures itself from `process.env`
 * on the first invocation; a bad setting fails every invocation with a message naming the variable.
 */
export const handler: FcHandler = (event, context, callback) => {
  try {
    configured ??= createHandler(process.env);
  } catch (error) {
    callback(error as Error);
    return;
  }
  configured(event, context, callback);
};

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
