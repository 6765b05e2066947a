import type { EventRecord } from '../core/events';
import { terminalSafe } from './terminal';

/** One column of the table: its title and its cells. */
interface Column {
  title: string;
  cells: string[];
}

/** Which columns a layout keeps, and the narrowest each cut column may become. */
interface Layout {
  drop: string[];
  /** Cut in this order, each down to its floor, until the table fits. */
  cut: Array<[title: string, floor: number]>;
}

/**
 * The ways to fit a narrower terminal, best first: drop the columns with nothing in them; drop
 * CORP ID (an ID starts with the owner key, the corp's id for a corp's own events); cut IDs in the
 * middle; drop PROCESS INSTANCE; cut the event type.
 */
const LAYOUTS: Layout[] = [
  { drop: [], cut: [] },
  { drop: ['CORP ID'], cut: [] },
  { drop: ['CORP ID'], cut: [['ID', 40]] },
  { drop: ['CORP ID', 'PROCESS INSTANCE'], cut: [['ID', 24]] },
  { drop: ['CORP ID', 'PROCESS INSTANCE'], cut: [['ID', 24], ['EVENT TYPE', 12]] },
];

const GAP = '  ';

/** The table `events` prints, and what was left out to fit `width` (nothing when it is undefined). */
export interface EventsTable {
  text: string;
  /** The columns dropped or cut to fit, for a note on standard error; empty when all is whole. */
  fitted: string[];
}

/**
 * A plain-text table, one event a row; the payload is left to `events get`. With a `width` (the
 * terminal's), the columns are fitted to it, empty ones dropped first (see {@link LAYOUTS});
 * without one every column is printed whole, so that a pipe gets every ID to copy.
 */
export function eventsTable(records: EventRecord[], width?: number): EventsTable {
  if (records.length === 0) return { text: 'no events match', fitted: [] };
  // Every cell is DingTalk's text: a control character in it could clear the terminal or forge a row.
  const cells = (field: (record: EventRecord) => string) => records.map((record) => terminalSafe(field(record)));
  const all: Column[] = [
    { title: 'RECEIVED (UTC)', cells: cells((record) => record.receivedAt.replace('T', ' ').replace('Z', '')) },
    { title: 'EVENT TYPE', cells: cells((record) => record.eventType) },
    { title: 'ID', cells: cells((record) => record.id) },
    { title: 'CORP ID', cells: cells((record) => record.corpId ?? '') },
    { title: 'PROCESS INSTANCE', cells: cells((record) => record.processInstanceId ?? '') },
  ];
  if (width === undefined) return { text: render(all, all.map(natural)), fitted: [] };
  const filled = all.filter((column) => column.cells.some((cell) => cell !== ''));
  let chosen: { columns: Column[]; widths: number[]; layout: Layout } | undefined;
  for (const layout of LAYOUTS) {
    const columns = filled.filter((column) => !layout.drop.includes(column.title));
    const widths = columns.map(natural);
    for (const [title, floor] of layout.cut) {
      const index = columns.findIndex((column) => column.title === title);
      const excess = total(widths) - width;
      if (index >= 0 && excess > 0) widths[index] = Math.min(widths[index]!, Math.max(floor, widths[index]! - excess));
    }
    chosen = { columns, widths, layout };
    if (total(widths) <= width) break;
  }
  const { columns, widths } = chosen!;
  const dropped = filled.filter((column) => !columns.includes(column)).map((column) => `${column.title} left out`);
  const cut = columns.filter((column, index) => widths[index]! < natural(column)).map((column) => `${column.title} cut`);
  return { text: render(columns, widths), fitted: [...dropped, ...cut] };
}

function natural(column: Column): number {
  return Math.max(column.title.length, ...column.cells.map((cell) => cell.length));
}

function total(widths: number[]): number {
  return widths.reduce((sum, each) => sum + each, 0) + GAP.length * (widths.length - 1);
}

function render(columns: Column[], widths: number[]): string {
  const rows = [columns.map((column) => column.title), ...columns[0]!.cells.map((_, row) => columns.map((column) => column.cells[row]!))];
  return rows.map((row) => row.map((cell, index) => cutMiddle(cell, widths[index]!).padEnd(widths[index]!)).join(GAP).trimEnd()).join('\n');
}

/** `text` at most `width` characters: its start and its end, an ellipsis between. */
function cutMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  const tail = Math.floor((width - 1) / 2);
  return `${text.slice(0, width - 1 - tail)}…${text.slice(text.length - tail)}`;
}
