import { HANDSHAKES } from './events';

/**
 * How long DingTalk waits for an answer before it counts a delivery failed (docs/protocol.md): one
 * place for the budgets the code holds itself to, warns about and measures against.
 */
export const DEADLINES_MS = {
  /** An HTTP push of the new developer console's event subscription (SyncHTTP data pushes too). */
  httpPush: 2500,
  /** A Stream event's ack. */
  stream: 3000,
  /** A URL check (`check_url`, `check_create_suite_url`, `check_update_suite_url`): DingTalk throttles a URL that misses it. */
  urlCheck: 1200,
  /** A callback registered through the old `call_back/register_call_back` API. */
  legacyCallback: 1500,
} as const;

/** The budget of a push of this type, with what it is called, for warnings and summaries. */
export function pushBudget(eventType: string): { ms: number; what: string } {
  return HANDSHAKES.has(eventType) ? { ms: DEADLINES_MS.urlCheck, what: 'a URL check' } : { ms: DEADLINES_MS.httpPush, what: 'an HTTP push' };
}

/** `2.5 s` */
export function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/**
 * Why an answer that took `latencyMs` would fail at DingTalk, or `undefined` when it is within every
 * budget its kind of push has: over the push's own budget, or over the legacy callback's shorter one.
 */
export function latencyWarning(latencyMs: number, eventType: string): string | undefined {
  const budget = pushBudget(eventType);
  const took = `${Math.round(latencyMs)} ms`;
  if (latencyMs > budget.ms) return `${took} is over DingTalk's ${seconds(budget.ms)} for ${budget.what}: DingTalk would count it failed and push it again`;
  if (budget.ms > DEADLINES_MS.legacyCallback && latencyMs > DEADLINES_MS.legacyCallback) {
    return `${took} is within ${seconds(budget.ms)} for ${budget.what}, but over the ${seconds(DEADLINES_MS.legacyCallback)} a callback registered through the old API gets`;
  }
  return undefined;
}
