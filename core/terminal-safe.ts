/**
 * What a terminal is shown of text DingTalk (or anyone who can push) supplied: event types, ids, corp
 * ids, errmsg, payloads. A control character in it could clear the terminal, move the cursor or
 * forge a row, so every one (in the CLI and npm start's lines) is shown escaped instead: C0 (but the line breaks and tabs `keep` names),
 * DEL, C1 (U+009B is a one-byte CSI), the line and paragraph separators, and the bidirectional
 * overrides that reorder what is shown.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character written as its JSON escape (`\u001b`, `\u202e`), but those in
 * `keep` (such as '\n'): JSON text stays JSON, with the same strings in it.
 */
export function terminalSafe(text: string, keep = ''): string {
  return text.replace(CONTROL, (char) => (keep.includes(char) ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
