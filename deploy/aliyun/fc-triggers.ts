import { isDeepStrictEqual } from 'node:util';
import { serviceRole, type RoleSpec } from './ram-roles';

/**
 * Function Compute triggers the provider plugin cannot make, declared as function events in
 * `serverless.aliyun.yml` and created by the bridge through FC 2.0's trigger API:
 *
 * ```yaml
 * events:
 *   - timer: { cronExpression: '@every 60m' }   # optional: enable (default true), payload
 *   - tablestore: {}                            # the function's events table (EVENTS_TABLE)
 * ```
 */

/** `timer` event: FC's timer trigger configuration. */
export interface TimerEvent {
  cronExpression: string;
  enable?: boolean;
  /** Passed to the function as the event's `payload`; an object is sent as its JSON. */
  payload?: string | object;
}

/** The schema of both events, for Serverless's configuration validation. */
export const TRIGGER_EVENT_SCHEMAS = {
  timer: {
    type: 'object',
    properties: { cronExpression: { type: 'string', minLength: 1 }, enable: { type: 'boolean' }, payload: { anyOf: [{ type: 'string' }, { type: 'object' }] } },
    required: ['cronExpression'],
    additionalProperties: false,
  },
  tablestore: { type: 'object', properties: {}, additionalProperties: false },
};

/** A trigger as FC's CreateTrigger takes it. */
export interface TriggerSpec {
  triggerName: string;
  triggerType: 'timer' | 'tablestore';
  triggerConfig: object;
  sourceArn?: string;
  invocationRole?: string;
  /** For a Tablestore trigger: the role Tablestore assumes to invoke the function, made before the trigger. */
  role?: RoleSpec;
  /** For a Tablestore trigger: the table whose Stream must be on. */
  table?: { instance: string; name: string };
}

/** Where the function lives, for ARNs and names. */
export interface TriggerContext {
  accountId: string;
  region: string;
  serviceName: string;
  /** The function's name in FC (`<service>-<stage>-<key>`). */
  functionName: string;
  /** The function's key in `serverless.aliyun.yml`, e.g. `forward`. */
  functionKey: string;
  env: Record<string, string>;
}

/** The triggers a function's `timer` and `tablestore` events ask for (others are the provider's). */
export function triggerSpecs(events: Array<Record<string, unknown>>, context: TriggerContext): TriggerSpec[] {
  const specs: TriggerSpec[] = [];
  const named = (type: string) => {
    const count = specs.filter((spec) => spec.triggerType === type).length;
    return count === 0 ? type : `${type}-${count + 1}`;
  };
  for (const event of events) {
    if (event.timer) {
      const timer = event.timer as TimerEvent;
      const payload = typeof timer.payload === 'object' ? JSON.stringify(timer.payload) : timer.payload;
      specs.push({ triggerName: named('timer'), triggerType: 'timer', triggerConfig: { cronExpression: timer.cronExpression, enable: timer.enable ?? true, ...(payload === undefined ? {} : { payload }) } });
    } else if (event.tablestore) {
      specs.push({ ...tablestoreTrigger(context), triggerName: named('tablestore') });
    }
  }
  return specs;
}

/**
 * A Tablestore trigger on the function's events table, invoked through a role that Tablestore may
 * assume and that may invoke this one function and read that table's Stream, nothing else.
 */
function tablestoreTrigger({ accountId, region, serviceName, functionName, functionKey, env }: TriggerContext): TriggerSpec {
  // Blank at `sls remove`, which needs the names only (they do not depend on the table).
  const instance = env.TABLESTORE_INSTANCE ?? '';
  const table = env.EVENTS_TABLE ?? '';
  const tableArn = `acs:ots:${region}:${accountId}:instance/${instance.toLowerCase()}/table/${table}`;
  const roleName = limit(`sls-${serviceName}-${region}-${functionKey}-ots-invoke`, 64);
  const role = serviceRole(roleName, 'ots.aliyuncs.com', `Lets Tablestore invoke ${serviceName}/${functionName} with the Stream of ${instance}/${table}`, limit(`fc-${serviceName}-${region}-${functionKey}-ots-invoke`, 128), [
    { Effect: 'Allow', Action: ['fc:InvokeFunction'], Resource: functionArns(region, accountId, serviceName, functionName) },
    { Effect: 'Allow', Action: ['ots:BatchGet*', 'ots:Describe*', 'ots:Get*', 'ots:List*'], Resource: [tableArn] },
  ]);
  return { triggerName: 'tablestore', triggerType: 'tablestore', triggerConfig: {}, sourceArn: tableArn, role, table: { instance, name: table } };
}

/** The ARNs of a function in FC 2.0 RAM policies: unqualified, and through any version or alias. */
export function functionArns(region: string, accountId: string, serviceName: string, functionName: string): string[] {
  return [`acs:fc:${region}:${accountId}:services/${serviceName}/functions/${functionName}`, `acs:fc:${region}:${accountId}:services/${serviceName}.*/functions/${functionName}`];
}

/** RAM names have length limits; a long one keeps its start and gets a short hash as its end. */
function limit(name: string, max: number): string {
  if (name.length <= max) return name;
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `${name.slice(0, max - 9)}-${hash.toString(36).padStart(8, '0').slice(0, 8)}`;
}

/** The FC 2.0 trigger calls of `@alicloud/fc`. */
export interface FcTriggerClient {
  getTrigger(service: string, fn: string, trigger: string): Promise<{ data: Record<string, unknown> } | Record<string, unknown>>;
  createTrigger(service: string, fn: string, options: object): Promise<unknown>;
  updateTrigger(service: string, fn: string, trigger: string, options: object): Promise<unknown>;
  deleteTrigger(service: string, fn: string, trigger: string): Promise<unknown>;
}

/** FC's answers for a trigger that is not there, or whose function or service is not. */
const GONE = new Set(['TriggerNotFound', 'FunctionNotFound', 'ServiceNotFound']);

/** Creates the trigger, or updates its configuration and role when they changed; says what it did. */
export async function ensureTrigger(fc: FcTriggerClient, serviceName: string, functionName: string, spec: TriggerSpec): Promise<'created' | 'updated' | 'unchanged'> {
  const wanted = { triggerName: spec.triggerName, triggerType: spec.triggerType, triggerConfig: spec.triggerConfig, ...(spec.sourceArn ? { sourceArn: spec.sourceArn } : {}), ...(spec.invocationRole ? { invocationRole: spec.invocationRole } : {}) };
  let existing: Record<string, unknown>;
  try {
    const answer = await fc.getTrigger(serviceName, functionName, spec.triggerName);
    existing = ((answer as { data?: Record<string, unknown> }).data ?? answer) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code !== 'TriggerNotFound') throw error;
    await fc.createTrigger(serviceName, functionName, wanted);
    return 'created';
  }
  if (existing.triggerType !== spec.triggerType || (spec.sourceArn && existing.sourceArn !== spec.sourceArn)) {
    throw new Error(`FC trigger ${serviceName}/${functionName}/${spec.triggerName} exists as a ${String(existing.triggerType)} trigger on ${String(existing.sourceArn ?? 'no source')}; delete it, then deploy again`);
  }
  const config = typeof existing.triggerConfig === 'string' ? (JSON.parse(existing.triggerConfig) as object) : existing.triggerConfig;
  if (isDeepStrictEqual(config, spec.triggerConfig) && (existing.invocationRole ?? undefined) === spec.invocationRole) return 'unchanged';
  await fc.updateTrigger(serviceName, functionName, spec.triggerName, { triggerConfig: spec.triggerConfig, ...(spec.invocationRole ? { invocationRole: spec.invocationRole } : {}) });
  return 'updated';
}

/**
 * Deletes the trigger, before its function and its role go; one that is not there (a second
 * remove, a deploy stopped half-way) is no error.
 */
export async function deleteTrigger(fc: FcTriggerClient, serviceName: string, functionName: string, triggerName: string): Promise<'deleted' | 'already gone'> {
  try {
    await fc.deleteTrigger(serviceName, functionName, triggerName);
    return 'deleted';
  } catch (error) {
    if (GONE.has((error as { code?: string }).code ?? '')) return 'already gone';
    throw error;
  }
}
