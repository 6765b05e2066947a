/**
 * What the CLI prints of text DingTalk (or anyone who can push) supplied: event types, ids, corp
 * ids, errmsg, payloads. A control character in it could clear the terminal, move the cursor or
 * forge a row, so every one is shown escaped instead: C0 (but the line breaks and tabs `keep` names),
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

/** A plain-text table: `header` over `rows`, columns two spaces apart, every cell made {@link terminalSafe}. */
export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const safe = rows.map((row) => row.map((cell) => terminalSafe(cell)));
  const widths = header.map((title, column) => Math.max(title.length, ...safe.map((row) => (row[column] ?? '').length)));
  return [header, ...safe].map((row) => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd()).join('\n');
}
