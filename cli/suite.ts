import type { AuthorisationState, SuiteTicketState } from '../core/isv-state';
import { counted, UsageError, type Command } from './command';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';
import { terminalSafe, textTable } from './terminal';

/** DingTalk issues a suite a new ticket about this often; an older one has likely been voided. */
const TICKET_INTERVAL_MS = 5 * 3600_000;

export const suite: Command = {
  name: 'suite',
  summary: "an ISV suite's latest suite_ticket and its age, and the organisations that authorised it",
  help: `Usage: dingtalk-callback suite [options]

Shows the ISV state the functions keep beside the events (docs/isv.md): each suite's latest
suite_ticket (which DingTalk sends about every 5 hours, a new one voiding the old) with its age, and
every organisation that authorised, changed or revoked the suite, newest first. The ticket is a
credential: it is printed only with --show-ticket. Permanent codes are never kept here.

Options:
  --show-ticket              print each suite's ticket too
  --json                     print JSON: {"suites": [...], "organisations": [...]}; times in ms and
                             ISO-8601, the ticket only with --show-ticket
  -h, --help                 show this help

${STORE_HELP}

Examples:
  dingtalk-callback suite
  dingtalk-callback suite --json --show-ticket | jq -r '.suites[0].ticket'
  dingtalk-callback suite --aws --table dingtalk-callback-prod-events`,
  options: {
    ...STORE_OPTIONS,
    'show-ticket': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`suite takes no argument, not "${positionals[0]}"`);
    const store = openStore(values);
    const now = Date.now();
    const states = await store.isvStates();
    const suites = states.filter((state): state is SuiteTicketState => state.kind === 'suite_ticket').sort((a, b) => b.time - a.time);
    const organisations = states.filter((state): state is AuthorisationState => state.kind === 'authorisation').sort((a, b) => b.time - a.time);
    const showTicket = values['show-ticket'] === true;
    if (values.json) {
      const json = {
        suites: suites.map((ticket) => ({ suiteKey: ticket.suiteKey, suiteId: ticket.suiteId ?? null, time: ticket.time, issuedAt: iso(ticket.time), ageSeconds: Math.round((now - ticket.time) / 1000), ...(showTicket && { ticket: ticket.ticket }) })),
        organisations: organisations.map((auth) => ({ suiteKey: auth.suiteKey, corpId: auth.corpId, corpName: auth.corpName ?? null, status: auth.status, action: auth.action, time: auth.time, at: iso(auth.time), agentIds: auth.agentIds ?? [] })),
      };
      process.stdout.write(`${terminalSafe(JSON.stringify(json, null, 2), '\n')}\n`);
      return 0;
    }
    process.stdout.write(`${suitesText(suites, now, showTicket)}\n\n${organisationsText(organisations)}\n`);
    const stale = suites.filter((ticket) => now - ticket.time > TICKET_INTERVAL_MS);
    if (stale.length > 0) {
      process.stderr.write(`${counted(stale.length, 'ticket')} older than 5 hours: DingTalk has likely issued a newer one that has not arrived; check the suite's SyncHTTP URL in the developer console (docs/isv.md)\n`);
    }
    return 0;
  },
};

function suitesText(suites: SuiteTicketState[], now: number, showTicket: boolean): string {
  if (suites.length === 0) return "No suite_ticket is kept yet: DingTalk sends one about every 5 hours once the suite's event subscription uses SyncHTTP with this function's URL (docs/isv.md).";
  const rows = suites.map((ticket) => [ticket.suiteKey, ticket.suiteId ?? '', iso(ticket.time), age(now - ticket.time), showTicket ? ticket.ticket : 'hidden (--show-ticket)']);
  return `Suites, latest suite_ticket\n${textTable(['SUITE KEY', 'SUITE ID', 'ISSUED (UTC)', 'AGE', 'TICKET'], rows)}`;
}

function organisationsText(organisations: AuthorisationState[]): string {
  if (organisations.length === 0) return 'No organisation has authorised a suite yet (or none since the state was kept).';
  const authorised = organisations.filter((auth) => auth.status !== 'revoked').length;
  const rows = organisations.map((auth) => [auth.suiteKey, auth.corpId, auth.corpName ?? '', auth.status, iso(auth.time), (auth.agentIds ?? []).join(',')]);
  return `Organisations: ${authorised} authorising, ${organisations.length - authorised} revoked\n${textTable(['SUITE KEY', 'CORP ID', 'NAME', 'STATUS', 'SINCE (UTC)', 'AGENT IDS'], rows)}`;
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

/** An age as a person reads it: seconds, minutes, hours and minutes, or days. */
function age(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return `${Math.floor(Math.max(0, ms) / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${Math.floor(minutes / 1440)} d`;
}
