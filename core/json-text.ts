/**
 * JSON text re-indented without parsing its values into JavaScript: strings and numbers are copied
 * as written, so an integer beyond 2^53 stays exact and no string is re-escaped. The text is
 * checked with `JSON.parse` first; a leading byte-order mark is skipped.
 * @param depth the nesting level the text starts at, for embedding it in other indented JSON.
 * @throws SyntaxError when the text is not JSON.
 */
export function reindentJson(text: string, indent = 2, depth = 0): string {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  JSON.parse(json);
  const pad = (level: number) => `\n${' '.repeat(indent * level)}`;
  let out = '';
  let level = depth;
  for (let i = 0; i < json.length; i++) {
    const char = json[i]!;
    if (char === '"') {
      const end = stringEnd(json, i);
      out += json.slice(i, end + 1);
      i = end;
    } else if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      let next = i + 1;
      while (/\s/.test(json[next] ?? '')) next += 1;
      if (json[next] === close) {
        out += char + close;
        i = next;
      } else {
        level += 1;
        out += char + pad(level);
      }
    } else if (char === '}' || char === ']') {
      level -= 1;
      out += pad(level) + char;
    } else if (char === ',') {
      out += `,${pad(level)}`;
    } else if (char === ':') {
      out += ': ';
    } else if (!/\s/.test(char)) {
      out += char; // digits, signs, exponents and the letters of true, false and null
    }
  }
  return out;
}

/**
 * A stored record as indented JSON, its `payload` the message itself as JSON (not a string of it),
 * re-emitted by {@link reindentJson} so its numbers stay exact; a payload that is no JSON stays a string.
 */
export function recordJson<T extends { payload: string }>(record: T, indent = 2, depth = 0): string {
  const { payload, ...fields } = record;
  const inner = `\n${' '.repeat(indent * (depth + 1))}`;
  const lines = Object.entries(fields).map(([name, value]) => `${inner}${JSON.stringify(name)}: ${JSON.stringify(value)}`);
  let payloadJson: string;
  try {
    payloadJson = reindentJson(payload, indent, depth + 1);
  } catch {
    payloadJson = JSON.stringify(payload);
  }
  lines.push(`${inner}"payload": ${payloadJson}`);
  return `{${lines.join(',')}\n${' '.repeat(indent * depth)}}`;
}

/** A JSON string token (its escapes whole), or a bracket: whatever else JSON holds needs no tracking here. */
const TOKENS = /"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\]]/g;
const KEY_FOLLOWS = /\s*:/y;

/**
 * Which of `names` the top-level object of `json` (text `JSON.parse` accepted) names more than once.
 * `JSON.parse` keeps the last of two equal keys and a reader that keeps the first would disagree. A
 * key may be spelled with escapes (`"Event\u0054ype"`), so keys are compared as JSON reads them.
 */
export function keysNamedTwice(json: string, names: readonly string[]): string[] {
  // Without a backslash a key is spelled as it reads: one literal occurrence means one key at most.
  if (!json.includes('\\') && names.every((name) => json.indexOf(`"${name}"`) === json.lastIndexOf(`"${name}"`))) return [];
  const counts = new Map<string, number>();
  let depth = 0;
  for (const match of json.matchAll(TOKENS)) {
    const token = match[0];
    if (token === '{' || token === '[') depth += 1;
    else if (token === '}' || token === ']') depth -= 1;
    else if (depth === 1) {
      KEY_FOLLOWS.lastIndex = match.index + token.length;
      if (!KEY_FOLLOWS.test(json)) continue;
      const key = JSON.parse(token) as string;
      if (names.includes(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return names.filter((name) => (counts.get(name) ?? 0) > 1);
}

/**
 * The verbatim text of each element of the array that the top-level object of `json` (text
 * `JSON.parse` accepted) holds under `key`, or undefined when that value is no array. Each element
 * keeps its bytes as sent (numbers beyond 2^53, escapes, spacing inside), so a row cut from a
 * SyncHTTP message can be stored as DingTalk wrote it. A key named twice counts as `JSON.parse`
 * reads it: the last one.
 */
export function arrayElementsText(json: string, key: string): string[] | undefined {
  let depth = 0;
  let found: number | undefined;
  for (let i = 0; i < json.length; i++) {
    const char = json[i]!;
    if (char === '"') {
      const end = stringEnd(json, i);
      if (depth === 1) {
        KEY_FOLLOWS.lastIndex = end + 1;
        if (KEY_FOLLOWS.test(json) && JSON.parse(json.slice(i, end + 1)) === key) found = KEY_FOLLOWS.lastIndex;
      }
      i = end;
    } else if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') depth -= 1;
  }
  if (found === undefined) return undefined;
  let start = found;
  while (/\s/.test(json[start] ?? '')) start += 1;
  if (json[start] !== '[') return undefined;
  const elements: string[] = [];
  let level = 0;
  let from = start + 1;
  for (let i = start + 1; i < json.length; i++) {
    const char = json[i]!;
    if (char === '"') i = stringEnd(json, i);
    else if (char === '{' || char === '[') level += 1;
    else if ((char === '}' || char === ']') && level > 0) level -= 1;
    else if (level === 0 && (char === ',' || char === ']')) {
      const element = json.slice(from, i).trim();
      if (element !== '') elements.push(element);
      if (char === ']') break;
      from = i + 1;
    }
  }
  return elements;
}

/** The index of the quote closing the JSON string opened at `start`. */
function stringEnd(json: string, start: number): number {
  let end = start + 1;
  while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
  return end;
}
