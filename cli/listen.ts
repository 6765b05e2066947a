import WebSocket from 'ws';
import { frameLine, runRelay, wsConnect, type RelayStatus, type RelaySummary } from '../core/stream-relay';
import { loadStreamSettings } from '../core/stream-settings';
import { counted, type Command } from './command';
import { openStore, STORE_HELP, STORE_OPTIONS } from './stores';
import { terminalSafe } from './terminal';

export const listen: Command = {
  name: 'listen',
  summary: "receive the app's events over DingTalk Stream mode into the store, no public URL needed",
  help: `Usage: dingtalk-callback listen [options]

Holds a DingTalk Stream connection for the app in the foreground, as the scheduled stream function
does (docs/stream.md): each event DingTalk sends is stored, and only then acknowledged; an event the
store did not take is acknowledged LATER, so DingTalk sends it again. Real DingTalk events on a
laptop with no public URL: by default into the local store of npm start, where forwarding and
"dingtalk-callback events" see them as they see pushed ones.
Prints one line per event (time, type, id, stored / duplicate / not stored), a line on standard
error when the connection changes. Ctrl-C stops taking events, acknowledges what is in hand, and
exits 0; a second Ctrl-C exits at once (DingTalk sends what was not acknowledged again).
Exit status 0 after Ctrl-C; 1 when the store cannot be reached; 2 on a usage or settings error,
DingTalk refusing the key and secret included (said in one line naming the setting).

Options:
  -h, --help                 show this help

${STORE_HELP}

Settings (environment, as the stream function reads them):
  DINGTALK_APP_KEY, DINGTALK_APP_SECRET   the app's ClientID (AppKey) and ClientSecret (AppSecret)
  DINGTALK_SUITE_KEY, DINGTALK_SUITE_SECRET
                                          an ISV suite instead
  DINGTALK_OWNER_KEY                      optional: as recover reads it (the ownerKey the app's
                                          pushes are filed under, when it is the corpId)
  DINGTALK_OPENAPI_ENDPOINT               default https://api.dingtalk.com (overseas:
                                          https://api.dingtalk.io)
  DINGTALK_STREAM_CONCURRENCY             events stored at once (default 32)

The app must be set to Stream mode in DingTalk's developer console: docs/stream.md says how.

Examples:
  DINGTALK_APP_KEY=… DINGTALK_APP_SECRET=… dingtalk-callback listen
  dingtalk-callback listen --aws --table dingtalk-callback-prod-events --region cn-north-1`,
  options: { ...STORE_OPTIONS },
  async run(values) {
    const settings = loadStreamSettings(process.env);
    const store = openStore(values);
    // Fail now, in the CLI's words, when nothing answers where the store should be, rather than
    // acking every event LATER.
    await store.get('dingtalk-callback:listen-probe');
    const controller = new AbortController();
    let interrupts = 0;
    const interrupt = () => {
      interrupts += 1;
      if (interrupts > 1) process.exit(130);
      process.stderr.write('stopping: acknowledging the events in hand (Ctrl-C again to exit at once)\n');
      controller.abort();
    };
    process.on('SIGINT', interrupt);
    process.stderr.write(`listening for ${terminalSafe(settings.clientId)}'s events over DingTalk Stream (${settings.endpoint}); Ctrl-C to stop\n`);
    try {
      const summary = await runRelay({
        settings,
        writer: store,
        connect: wsConnect(WebSocket, settings.timing.openTimeoutMs),
        signal: controller.signal,
        log: () => {},
        onFrame: (frame) => process.stdout.write(`${new Date().toISOString()}  ${frameLine(frame)}\n`),
        onStatus: (status) => process.stderr.write(statusLine(status)),
      });
      process.stderr.write(`${summaryLine(summary)}\n`);
      return 0;
    } finally {
      process.off('SIGINT', interrupt);
    }
  },
};

function statusLine(status: RelayStatus): string {
  // "connected" follows every reconnect; the first one is said by the banner already.
  return status.state === 'stopped' ? '' : `${terminalSafe(status.message)}\n`;
}

function summaryLine(summary: RelaySummary): string {
  const parts = [`${summary.created} stored`, `${summary.duplicate} duplicate`];
  if (summary.later > 0) parts.push(`${summary.later} acked LATER (DingTalk sends them again)`);
  if (summary.unstorable > 0) parts.push(`${summary.unstorable} unstorable`);
  if (summary.callbacks > 0) parts.push(counted(summary.callbacks, 'robot message'));
  return `stopped: ${parts.join(', ')}, over ${counted(summary.connections, 'connection')}`;
}
