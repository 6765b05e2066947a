import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * The `tablestore` SDK client methods the functions' code calls: the store's `getRow` and
 * `getRange` (recover), the recover inbox's `putRow`, `getRange` and `deleteRow`, and forward's dead
 * letters' `putRow`; the events themselves are written without the SDK
 * (`providers/aliyun/tablestore-put-client.ts`). The bundles keep the protobuf types these reach and
 * no other; `test/aliyun/lazy-protobuf.test.ts` fails when the functions' code calls a method not listed here.
 */
export const BUNDLED_OPERATIONS = ['putRow', 'getRow', 'getRange', 'deleteRow'] as const;

/** The `tablestore` SDK's protobufjs static code: every message and enum of the Tablestore API. */
const COMPILED_PROTO = /[\\/]tablestore[\\/]lib[\\/]protocol[\\/]tablestore_compiled_proto\.js$/;

/** `$root.main = (function() {`: one of the file's top-level packages (`main`, `filter`, `search`). */
const PACKAGE = /^\$root\.(\w+) = \(function\(\) \{$/gm;

/** `        proto.PutRowRequest = (function() {` … `        })();`: one type of a namespace, built at once. */
const TYPE_DEFINITION = /^ {8}(\w+)\.(\w+) = \(function\(\) \{$([\s\S]*?)^ {8}\}\)\(\);$/gm;

/** How a type's methods name another type: `$root.main.proto.Condition`. */
const TYPE_REFERENCE = /\$root\.(\w+\.\w+\.\w+)/g;

/**
 * What the SDK itself reads by name besides each operation's request and response: the filter
 * package (`filter.js` reads its enums when it loads; GetRow and GetRange encode column filters
 * with it) and GetRange's `Direction`.
 */
const READ_BY_THE_SDK = [/^filter\.proto\./, /^main\.proto\.Direction$/];

/** Replaces a property by the value `build` returns, built on first access; a plain property after that. */
const DEFER = `function __deferType(namespace, name, build) {
  var settle = function (value) { Object.defineProperty(namespace, name, { value: value, writable: true, enumerable: true, configurable: true }); return value; };
  Object.defineProperty(namespace, name, { get: function () { return settle(build()); }, set: settle, enumerable: true, configurable: true });
}
function __leftOut(type) {
  return function () { throw new Error("the tablestore SDK's protobuf type " + type + " is not in this bundle: deploy/aliyun/esbuild-lazy-protobuf.ts keeps those of ${BUNDLED_OPERATIONS.join(', ')} only; add the client method that needs it to BUNDLED_OPERATIONS"); };
}
`;

/** One message or enum of the compiled file: its full name (`main.proto.PutRowRequest`), where it is, and what it refers to. */
interface TypeDefinition {
  name: string;
  start: number;
  references: string[];
}

/** Every type definition of the compiled file, by full name. */
function typeDefinitions(source: string): Map<string, TypeDefinition> {
  const packages = [...source.matchAll(PACKAGE)].map((match) => ({ name: match[1]!, start: match.index }));
  const types = new Map<string, TypeDefinition>();
  for (const match of source.matchAll(TYPE_DEFINITION)) {
    const pkg = packages.filter((candidate) => candidate.start < match.index).at(-1)?.name;
    const name = `${pkg}.${match[1]}.${match[2]}`;
    types.set(name, { name, start: match.index, references: [...new Set([...match[3]!.matchAll(TYPE_REFERENCE)].map((reference) => reference[1]!))] });
  }
  return types;
}

/**
 * The full names of the types the {@link BUNDLED_OPERATIONS} reach: their requests and responses,
 * what the SDK reads by name, and every type those refer to, transitively.
 * @throws when an operation's request or response is not in the file (a new SDK laid it out differently).
 */
function keptTypes(types: ReadonlyMap<string, TypeDefinition>): Set<string> {
  const upper = (operation: string) => operation[0]!.toUpperCase() + operation.slice(1);
  const roots = BUNDLED_OPERATIONS.flatMap((operation) => [`main.proto.${upper(operation)}Request`, `main.proto.${upper(operation)}Response`]);
  const missing = roots.filter((name) => !types.has(name));
  if (missing.length > 0) throw new Error(`the tablestore SDK's protobuf types lack ${missing.join(', ')}: deploy/aliyun/esbuild-lazy-protobuf.ts needs updating for this SDK version`);
  const kept = new Set<string>();
  const pending = [...roots, ...[...types.keys()].filter((name) => READ_BY_THE_SDK.some((pattern) => pattern.test(name)))];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const type = types.get(name);
    if (!type || kept.has(name)) continue;
    kept.add(name);
    pending.push(...type.references);
  }
  return kept;
}

/**
 * An esbuild plugin for the `tablestore` SDK's ~260 protobuf message and enum types, which it builds
 * all at once when it loads (search, SQL, admin calls). It keeps only the types the functions'
 * operations reach ({@link keptTypes}: 67 of the 650 KB of definitions), each built on first use (a
 * push needs PutRow's handful), and leaves out the others, which V8 would otherwise read at every
 * cold start (docs/performance.md). A type left out throws, naming itself, when the SDK reaches
 * for it. The types only refer to each other inside their methods, so each can be built when first
 * read. Warns, and leaves the file as it is, should a new SDK version lay it out differently.
 */
export const lazyTablestoreProtobuf: Plugin = {
  name: 'lazy-tablestore-protobuf',
  setup(build) {
    build.onLoad({ filter: COMPILED_PROTO }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const types = typeDefinitions(source);
      if (types.size === 0) return { warnings: [{ text: 'found no protobuf type to defer in the tablestore SDK: it now loads them all at cold start' }] };
      const kept = keptTypes(types);
      const byStart = new Map([...types.values()].map((type) => [type.start, type.name]));
      const contents = source.replace(TYPE_DEFINITION, (definition, namespace: string, name: string, body: string, start: number) => {
        const type = byStart.get(start)!;
        const build = kept.has(type) ? `function() {${body}        }` : `__leftOut(${JSON.stringify(type)})`;
        return `        __deferType(${namespace}, ${JSON.stringify(name)}, ${build});`;
      });
      // After the "use strict" directive, which must stay first to keep the file strict.
      const strict = '"use strict";\n';
      return { contents: contents.includes(strict) ? contents.replace(strict, strict + DEFER) : DEFER + contents, loader: 'js' };
    });
  },
};
