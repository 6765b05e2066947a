import { scheduledApiCalls } from '../core/quota';

/** The compiled template serverless-aliyun-function-compute deploys from (`.serverless/configuration-template-update.json`). */
export interface AliyunTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** The schedule of the function's timer trigger in a compiled template, when the timer is on. */
function enabledTimer(template: AliyunTemplate, fn: 'recover' | 'stream'): string | undefined {
  const trigger = Object.values(template.Resources).find((resource) => resource.Type === 'BRIDGE::FC::Trigger' && resource.Properties.functionName === `dingtalk-callback-dev-${fn}`);
  const config = trigger?.Properties.triggerConfig as { cronExpression: string; enable: boolean } | undefined;
  return config?.enable ? config.cronExpression : undefined;
}

/** The schedules of the compiled template's timers that are on. */
export const templateSchedules = (template: AliyunTemplate) => ({ recover: enabledTimer(template, 'recover'), stream: enabledTimer(template, 'stream') });

/** What the compiled template's schedules that are on spend of DingTalk's server-API calls a month. */
export const templateApiCalls = (template: AliyunTemplate) => scheduledApiCalls(templateSchedules(template));
