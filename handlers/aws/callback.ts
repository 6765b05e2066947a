import { createCallback, malformedEvent, type Callback, type CallbackRequest, type CallbackResponse } from '../../core/callback';
import type { Logger } from '../../core/log';
import { loadSettings, optionalWholeNumber, required, type Environment } from '../../core/settings';
import { AwsJsonClient, credentialsFromEnv, dynamoDbPutClient, SSM } from '../../providers/aws/aws-json-client';
import { DynamoDbEventWriter, type DynamoDbPutClient } from '../../providers/aws/dynamodb-writer';
import { loadSsmSettings } from '../../providers/aws/ssm-settings';

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

/** What a container's handler is built from; tests inject their own. */
export interface AwsHandlerOptions {
  /** Default: `process.env`, read at the first invocation. */
  env?: Environment;
  /** Default: a client for the function's region (`AWS_REGION`), or `DYNAMODB_ENDPOINT`, with Lambda's credentials. */
  dynamodb?: DynamoDbPutClient;
  /** Default: a client for the function's region, or `AWS_ENDPOINT_URL_SSM`, with Lambda's credentials. */
  ssm?: AwsJsonClient;
  log?: Logger;
}

/**
 * Builds a Lambda handler for API Gateway proxy events. Settings and the store are built at the
 * first invocation and kept for the container's life; a failed build (a bad setting, SSM down) is
 * thrown, so Lambda logs it and API Gateway answers 5xx, and is tried again on the next invocation.
 */
export function createHandler(options: AwsHandlerOptions = {}): (event: unknown, context?: LambdaContext) => Promise<ProxyResult> {
  let ready: Promise<Callback> | undefined;
  return async (event, context) => {
    ready ??= buildCallback(options).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    const callback = await ready;
    const request = toCallbackRequest(event);
    if (!request) return { ...malformedEvent('not an API Gateway proxy event', context?.awsRequestId, options.log), isBase64Encoded: false };
    // Lambda's own id is the one its log lines (START, END, REPORT) carry; the gateway's is a fallback.
    return { ...(await callback({ ...request, requestId: context?.awsRequestId ?? request.requestId })), isBase64Encoded: false };
  };
}

/** The Lambda entry point of `serverless.aws.yml`. */
export const handler = createHandler();

async function buildCallback({ env = process.env, dynamodb, ssm, log }: AwsHandlerOptions): Promise<Callback> {
  const prefix = env.DINGTALK_SSM_PREFIX?.trim();
  const aws = () => ({ region: required(env, 'AWS_REGION'), credentials: credentialsFromEnv(env) });
  const ssmEndpoint = env.AWS_ENDPOINT_URL_SSM?.trim() || undefined;
  const settings = prefix ? await loadSsmSettings(prefix, env, ssm ?? new AwsJsonClient({ ...aws(), service: SSM, endpoint: ssmEndpoint })) : loadSettings(env);
  const tableName = required(env, 'EVENTS_TABLE');
  const endpoint = env.DYNAMODB_ENDPOINT?.trim() || undefined;
  // `npm start` allows more (docs/reliability.md).
  const putDeadlineMs = optionalWholeNumber(env, 'DYNAMODB_PUT_DEADLINE_MS', 1, 'milliseconds');
  const store = new DynamoDbEventWriter({ tableName, client: dynamodb ?? dynamoDbPutClient({ ...aws(), endpoint }), putDeadlineMs });
  return createCallback({ settings, store, ...(log && { log }) });
}

/** Chooses the processor by the event's shape; anything else is no request at all. */
function toCallbackRequest(event: unknown): CallbackRequest | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const candidate = event as Partial<HttpApiEvent> & Partial<RestApiEvent>;
  if (candidate.version === '2.0' && typeof candidate.requestContext?.http?.method === 'string') return fromHttpApi(candidate as HttpApiEvent);
  if (typeof candidate.httpMethod === 'string') return fromRestApi(candidate as RestApiEvent);
  return undefined;
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
