import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/** The `tablestore` SDK's own files (its protobuf types are `esbuild-lazy-protobuf.ts`'s), its `int64-buffer` and protobufjs's reader. */
const SDK_FILE = /[\\/](tablestore[\\/]lib[\\/].*|int64-buffer[\\/]int64-buffer|protobufjs[\\/]src[\\/]reader)\.js$/;
const PROTOBUF_TYPES = /tablestore_compiled_proto\.js$/;

/** `new Buffer(`, and its aliases `new TableStore.util.Buffer(` and int64-buffer's `new BUFFER(`. */
const BUFFER_CONSTRUCTOR = /\bnew\s+(?:TableStore\.util\.Buffer|Buffer|BUFFER)\(/g;

/** Where a dependency calls the constructor under another name, `new Buffer(…)` for a `Buffer`; and the same without it. */
const ALIASED_CONSTRUCTORS: Array<[string, string]> = [
  // protobufjs's reader, for an empty `bytes` field (a PutRow response's row): another of what it reads.
  ['new this.buf.constructor(0)', '(this.buf.constructor.alloc ? this.buf.constructor.alloc(0) : new this.buf.constructor(0))'],
  // int64-buffer, for a number once it has made a Buffer (the SDK's every write): its storage is then Buffer.
  ['new _storage(8)', '(_storage === BUFFER ? BUFFER.alloc(8) : new _storage(8))'],
];

/** What `new Buffer(...)` did, without the deprecated constructor: a size allocates, anything else is copied or wrapped. */
const HELPER = `function __newBuffer(value, encodingOrOffset, length) {
  return typeof value === 'number' ? Buffer.alloc(value) : Buffer.from(value, encodingOrOffset, length);
}
`;

/**
 * An esbuild plugin that replaces the `tablestore` SDK's calls of the deprecated `Buffer`
 * constructor, and protobufjs's for an empty `bytes` field. Bundled, the SDK is no longer under
 * `node_modules`, so node prints a DeprecationWarning (DEP0005) with a stack trace at each cold
 * start: a line in the function's log every time, and a few milliseconds of the first write. The
 * files stay non-strict (the helper is a plain function declaration), as the SDK needs.
 */
export const tablestoreWithoutBufferConstructor: Plugin = {
  name: 'tablestore-without-buffer-constructor',
  setup(build) {
    build.onLoad({ filter: SDK_FILE }, async ({ path }) => {
      if (PROTOBUF_TYPES.test(path)) return undefined;
      const source = await readFile(path, 'utf8');
      const unaliased = ALIASED_CONSTRUCTORS.reduce((text, [call, replacement]) => text.replace(call, replacement), source);
      const contents = unaliased.replace(BUFFER_CONSTRUCTOR, '__newBuffer(');
      if (contents === unaliased) return contents === source ? undefined : { contents, loader: 'js' };
      const strict = /^(\s*(['"])use strict\2;?\s*\n)/.exec(contents);
      return { contents: strict ? strict[1] + HELPER + contents.slice(strict[1]!.length) : HELPER + contents, loader: 'js' };
    });
  },
};
