import type { RecoverInbox } from '../core/inbox';
import { loadRecoverSettings, setAsideEntries, type RecoverError, type RecoverSettings, type RecoverSummary } from '../core/recover';
import { runRecover } from '../core/recover-run';
import { sandboxEnv } from '../providers/local/dingtalk-sandbox';
import { UsageError, type Command } from './command';
import { openStoreAndInbox, STORE_HELP, STORE_OPTIONS } from './stores';
import { terminalSafe, textTable } from './terminal';

export const recoverCommand: Command = {
  name: 'recover',
  summary: "pull the pushes DingTalk could not deliver from its failed list into the store",
  help: `Usage: dingtalk-callback recover [options]

Runs the recover pass of the scheduled recover function once, on demand (docs/recover.md): finishes
any failed-list reply an earlier run left in the inbox, then reads DingTalk's failed list page after
page and stores each item as a record with source "recovered", the same event never twice.
DingTalk deletes what it returns, so each reply is written to the inbox, as it came, before it is
even parsed, and stays there until its items are stored. An item that cannot be stored (or no event
can be made of) is set aside in the inbox as text with the reason, and the run goes on; a reply that
cannot be read at all is set aside whole, and the run stops. Handshakes (check_url, the suite URL
checks) are counted, not stored.
Exit status 0 when every item read is stored or set aside; 1 naming the failing step and DingTalk's
errcode and errmsg (or the HTTP status) otherwise, or when a reply could not be read; 2 on a usage
or settings error.

Options:
  --set-aside                list what earlier runs set aside (time, reason, size, the start of
                             the text), newest last, instead of running; with --json, each whole
  --json                     with --set-aside: one JSON object, {"setAside": [...]}
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
  DINGTALK_SANDBOX=true                   the local stand-in for DingTalk's server API that
                                          npm start runs with the same variable, with its
                                          development app, unless these say otherwise

Examples:
  DINGTALK_APP_KEY=… DINGTALK_APP_SECRET=… dingtalk-callback recover
  DINGTALK_SANDBOX=true dingtalk-callback recover
  dingtalk-callback recover --aws --table dingtalk-callback-prod-events --region cn-north-1`,
  options: { ...STORE_OPTIONS, 'inbox-table': { type: 'string' }, 'set-aside': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values) {
    if (values.json && !values['set-aside']) throw new UsageError('--json goes with --set-aside');
    const settings = loadRecoverSettings(sandboxEnv(process.env));
    const { store, inbox, ready } = openStoreAndInbox(values);
    await ready();
    if (values['set-aside']) return listSetAside(inbox, settings, values.json === true);
    const progress = (summary: RecoverSummary) => process.stderr.write(`${describe(summary)} so far\n`);
    const outcome = await runRecover({ settings, store, inbox, onPage: progress });
    const aside = await setAsideEntries(inbox, settings).catch(() => undefined);
    const asideLine = aside && aside.length > 0 ? `${aside.length} set-aside item${aside.length === 1 ? '' : 's'} kept in the inbox, from this run and earlier ones: dingtalk-callback recover --set-aside lists them\n` : '';
    if ('error' in outcome) {
      const { error, summary } = outcome;
      process.stderr.write(`dingtalk-callback recover: failed at ${terminalSafe(error.message)}\n`);
      process.stderr.write(`${failedRunLine(summary, error)}\n${asideLine}`);
      return 1;
    }
    process.stdout.write(`${describe(outcome.summary)} in ${outcome.durationMs} ms\n`);
    process.stderr.write(asideLine);
    return 0;
  },
};

/** What a failed run leaves, said as it is. */
function failedRunLine(summary: RecoverSummary, error: RecoverError): string {
  const { left, lost } = error;
  const again = 'run recover again once the cause is fixed';
  if (summary.pages + summary.resumed === 0 && left === 0) return `nothing was read from the failed list: ${again}`;
  const done = `${describe(summary)} before it`;
  if (error.step === 'reply') return `${done}; the reply that could not be read is set aside whole (recover --set-aside lists it), and DingTalk keeps what was not read yet: ${again}`;
  if (lost) return `${done}; some items read could be neither stored nor kept (see above): DingTalk has deleted them; ${again}`;
  if (left > 0) return `${done}; ${left === 1 ? 'a reply read is' : `${left} replies read are`} kept in the inbox, and the next run finishes ${left === 1 ? 'it' : 'them'}: ${again}`;
  return `${done}; every item read is stored${summary.setAside > 0 ? ' or set aside' : ''}, and DingTalk keeps what was not read yet: ${again}`;
}

async function listSetAside(inbox: RecoverInbox, settings: RecoverSettings, json: boolean): Promise<number> {
  const entries = await setAsideEntries(inbox, settings);
  if (json) {
    process.stdout.write(`${terminalSafe(JSON.stringify({ setAside: entries }, null, 2), '\n')}\n`);
    return 0;
  }
  if (entries.length === 0) {
    process.stdout.write('nothing is set aside\n');
    return 0;
  }
  const rows = entries.map((entry) => [entry.at, entry.id, `${Buffer.byteLength(entry.text)} B`, entry.reason, entry.text.slice(0, 60)]);
  process.stdout.write(`${textTable(['SET ASIDE AT', 'ID', 'SIZE', 'REASON', 'TEXT'], rows)}\n`);
  process.stdout.write(`${entries.length} set aside; --json prints each whole\n`);
  return 0;
}

function describe({ pages, resumed, items, created, duplicate, handshakes, setAside }: RecoverSummary): string {
  const earlier = resumed > 0 ? `, ${resumed} left by an earlier run` : '';
  const more = [handshakes > 0 && `${handshakes} handshake${handshakes === 1 ? '' : 's'} skipped`, setAside > 0 && `${setAside} set aside`].filter(Boolean).join(', ');
  return `recovered ${items} item${items === 1 ? '' : 's'} from ${pages} page${pages === 1 ? '' : 's'}${earlier}: ${created} new, ${duplicate} already stored${more ? `, ${more}` : ''}`;
}
