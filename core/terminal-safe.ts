/**
 * What a terminal is shown of text DingTalk (or anyone who can push) supplied: event types, ids, corp
 * ids, errmsg, payloads. A control character in it could clear the terminal, move the cursor or
 * forge a row, and an invisible one could hide or disguise what it holds, so every one (in the CLI,
 * npm start's lines and the functions' logs) is shown escaped instead, as the inspector page shows
 * them: C0 (but the line breaks and tabs `keep` names), DEL, C1 (U+009B is a one-byte CSI), the
 * zero-width and direction marks, the line and paragraph separators, the bidirectional overrides
 * and isolates that reorder what is shown, the invisible operators and the byte-order mark.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * `text` with every control character written as its JSON escape (`\u001b`, `\u202e`), but those in
 * `keep` (such as '\n'): JSON text stays JSON, with the same strings in it.
 */
export function terminalSafe(text: string, keep = ''): string {
  return text.replace(CONTROL, (char) => (keep.includes(char) ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
