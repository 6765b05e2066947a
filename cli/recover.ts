import { loadRecoverSettings, type RecoverSummary } from '../core/recover';
import { runRecover } from '../core/recover-run';
import type { Command } from './command';
import { openStoreAndInbox, STORE_HELP, STORE_OPTIONS } from './stores';

export const recoverCommand: Command = {
  name: 'recover',
  summary: "pull the pushes DingTalk could not deliver from its failed list into the store",
  help: `Usage: dingtalk-callback recover [options]

Runs the recover pass of the scheduled recover function once, on demand (docs/recover.md): finishes
any failed-list reply an earlier run left in the inbox, then reads DingTalk's failed list page after
page and stores each item as a record with source "recovered", the same event never twice. DingTalk
deletes what it returns, so each reply is kept in the inbox until its items are stored.
Exit status 0 when every item read is stored; 1 naming the failing step and DingTalk's errcode and
errmsg (or the HTTP status) otherwise; 2 on a usage or settings error.

Options:
  --inbox-table NAME         the inbox table beside --table (default: from the table's name, as
                             the deploy names it: <stage table>-recover-inbox on AWS,
                             <table>_inbox on Alibaba Cloud)
  -h, --help                 show this help

${STORE_HELP}

Settings (environment, as the function reads them):
  DINGTALK_APP_KEY, DINGTALK_APP_SECRET   an internal app's credentials (gettoken)
  DINGTALK_OWNER_KEY                      optional: when it lists the item's corpId, records are
                                          filed under it, as the corp's own pushes are
  DINGTALK_SUITE_KEY, DINGTALK_SUITE_SECRET, DINGTALK_SUITE_TAGS
                                          an ISV suite instead (the newest suite_ticket is read
                                          from the store)
  DINGTALK_API_BASE                       default https://oapi.dingtalk.com

Examples:
  DINGTALK_APP_KEY=… DINGTALK_APP_SECRET=… dingtalk-callback recover
  dingtalk-callback recover --aws --table dingtalk-callback-prod-events --region cn-north-1`,
  options: { ...STORE_OPTIONS, 'inbox-table': { type: 'string' } },
  async run(values) {
    const settings = loadRecoverSettings(process.env);
    const { store, inbox, ready } = openStoreAndInbox(values);
    await ready();
    const progress = (summary: RecoverSummary) => process.stderr.write(`${describe(summary)} so far\n`);
    const outcome = await runRecover({ settings, store, inbox, onPage: progress });
    if ('error' in outcome) {
      const { error, summary } = outcome;
      process.stderr.write(`dingtalk-callback recover: failed at ${error.message}\n`);
      const kept = summary.pages + summary.resumed > 0 ? `${describe(summary)} before it; what was read is kept, and the next run finishes it` : 'nothing was read from the failed list';
      process.stderr.write(`${kept}: run recover again once the cause is fixed\n`);
      return 1;
    }
    process.stdout.write(`${describe(outcome.summary)} in ${outcome.durationMs} ms\n`);
    return 0;
  },
};

function describe({ pages, resumed, items, created, duplicate }: RecoverSummary): string {
  const earlier = resumed > 0 ? `, ${resumed} left by an earlier run` : '';
  return `recovered ${items} item${items === 1 ? '' : 's'} from ${pages} page${pages === 1 ? '' : 's'}${earlier}: ${created} new, ${duplicate} already stored`;
}
