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
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
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
