import { randomUUID } from 'node:crypto';
import type { CallbackRequest } from '../core/callback';
import { loadJson } from './fixtures';

/** What a gateway event carries: a push's query and body (a {@link Push} fits), and its method (POST by default). */
export type GatewayRequest = Pick<CallbackRequest, 'method' | 'query' | 'body'>;

function queryOf(request: GatewayRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.query).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function bodyOf(request: GatewayRequest, base64: boolean): string | undefined {
  if (request.body === undefined || request.body === null) return undefined;
  const text = typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
  return base64 ? Buffer.from(text).toString('base64') : text;
}

/** An API Gateway HTTP API (payload 2.0) event built on the real fixture, with a request id of its own. */
export function httpApiEvent(request: GatewayRequest, base64 = false): Record<string, unknown> {
  const fixture = loadJson<{ requestContext: { http: object } }>('apigw-http-v2');
  const query = queryOf(request);
  return {
    ...fixture,
    rawQueryString: new URLSearchParams(query).toString(),
    queryStringParameters: query,
    body: bodyOf(request, base64),
    isBase64Encoded: base64,
    requestContext: { ...fixture.requestContext, http: { ...fixture.requestContext.http, method: request.method ?? 'POST' }, requestId: randomUUID() },
  };
}

/** An API Gateway REST API (payload 1.0) event built on the real fixture. */
export function restApiEvent(request: GatewayRequest, base64 = false): Record<string, unknown> {
  const query = queryOf(request);
  return {
    ...loadJson('apigw-rest-v1'),
    httpMethod: request.method ?? 'POST',
    queryStringParameters: query,
    multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]])),
    body: bodyOf(request, base64),
    isBase64Encoded: base64,
  };
}

/** An Alibaba API Gateway event built on the real fixture, as Function Compute decodes it (it hands over its JSON as a Buffer). */
export function fcGatewayEvent(request: GatewayRequest, base64 = false): Record<string, unknown> {
  return { ...loadJson('fc-apigw-check-url'), httpMethod: request.method ?? 'POST', queryParameters: queryOf(request), body: bodyOf(request, base64), isBase64Encoded: base64 };
}
