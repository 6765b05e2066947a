import { ConfigError } from './errors';
import { isLoopbackHost } from './dingtalk-api';
import { typeFilter, type Sink } from './forward';
import type { Environment } from './environment';
import { webhookKey, type WebhookKey } from './webhook';
import { webhookSink } from './webhook-sink';

/** Where stored events are forwarded, from `DINGTALK_FORWARD_*` and `DINGTALK_EVENT_BUS`. */
export interface ForwardSettings {
  /** The webhook and its signing key, when `DINGTALK_FORWARD_URL` is set. */
  webhook?: { url: URL; key: WebhookKey };
  /** The EventBridge bus name or ARN (AWS only), when `DINGTALK_EVENT_BUS` is set. */
  eventBus?: string;
  /** `DINGTALK_FORWARD_TYPES`: which event types go out (default all). */
  types: (eventType: string) => boolean;
}

/**
 * Reads the forwarding settings. The secret may come from elsewhere (SSM on AWS): pass it as
 * `secret`, else `DINGTALK_FORWARD_SECRET` is read. No sink set is no error: the function then
 * forwards nothing.
 * @throws ConfigError naming the variable that is invalid, or the secret missing for a URL.
 */
export function loadForwardSettings(env: Environment, secret = env.DINGTALK_FORWARD_SECRET): ForwardSettings {
  const settings: ForwardSettings = { types: typeFilter(env.DINGTALK_FORWARD_TYPES) };
  const rawUrl = env.DINGTALK_FORWARD_URL?.trim();
  if (rawUrl) {
    settings.webhook = { url: webhookUrl(rawUrl), key: webhookKey(secret?.trim() || missing(), 'DINGTALK_FORWARD_SECRET') };
  }
  const eventBus = env.DINGTALK_EVENT_BUS?.trim();
  if (eventBus) settings.eventBus = eventBus;
  return settings;
}

/**
 * The sinks the settings name, the webhook first: the one list both clouds' forward functions, `npm
 * start` and the CLI's replay deliver to. An empty list means the function forwards nothing.
 * `eventBus` makes the event-bus sink, where the cloud has one (EventBridge on AWS).
 * @throws ConfigError for an event bus on a cloud without one.
 */
export function forwardSinks(settings: ForwardSettings, eventBus?: (name: string) => Sink): Sink[] {
  const sinks: Sink[] = [];
  if (settings.webhook) sinks.push(webhookSink(settings.webhook));
  if (settings.eventBus) {
    if (!eventBus) throw new ConfigError('DINGTALK_EVENT_BUS', 'names an EventBridge bus, which only the AWS functions deliver to');
    sinks.push(eventBus(settings.eventBus));
  }
  return sinks;
}

function missing(): never {
  throw new ConfigError('DINGTALK_FORWARD_SECRET', 'is not set, and DINGTALK_FORWARD_URL needs it to sign deliveries (whsec_ + base64; make one with: dingtalk-callback keygen)');
}

/** HTTPS anywhere; plain HTTP only to this machine, where nothing crosses a network. */
function webhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('DINGTALK_FORWARD_URL', 'is not a URL');
  }
  if (url.username || url.password) throw new ConfigError('DINGTALK_FORWARD_URL', 'must not carry credentials; deliveries are signed with DINGTALK_FORWARD_SECRET');
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url;
  throw new ConfigError('DINGTALK_FORWARD_URL', 'must be an https:// URL (plain http:// only to localhost)');
}
