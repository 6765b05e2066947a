import { terminalSafe } from '../core/terminal-safe';

export { terminalSafe };

/** A plain-text table: `header` over `rows`, columns two spaces apart, every cell made {@link terminalSafe}. */
export function textTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const safe = rows.map((row) => row.map((cell) => terminalSafe(cell)));
  const widths = header.map((title, column) => Math.max(title.length, ...safe.map((row) => (row[column] ?? '').length)));
  return [header, ...safe].map((row) => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd()).join('\n');
}
