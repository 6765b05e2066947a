import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/** The `tablestore` SDK's protobufjs static code: every message and enum of the Tablestore API. */
const COMPILED_PROTO = /[\\/]tablestore[\\/]lib[\\/]protocol[\\/]tablestore_compiled_proto\.js$/;

/** `        proto.PutRowRequest = (function() {` … `        })();`: one type of a namespace, built at once. */
const TYPE_DEFINITION = /^ {8}(\w+)\.(\w+) = \(function\(\) \{$([\s\S]*?)^ {8}\}\)\(\);$/gm;

/** Replaces a property by the value `build` returns, built on first access; a plain property after that. */
const DEFER = `function __deferType(namespace, name, build) {
  var settle = function (value) { Object.defineProperty(namespace, name, { value: value, writable: true, enumerable: true, configurable: true }); return value; };
  Object.defineProperty(namespace, name, { get: function () { return settle(build()); }, set: settle, enumerable: true, configurable: true });
}
`;

/**
 * An esbuild plugin that defers the `tablestore` SDK's ~260 protobuf message and enum types until
 * first use. The SDK builds all of them (search, SQL, admin calls) when it loads, a third of the
 * bundle's cold start; a push needs PutRow's handful. The types only refer to each other inside
 * their methods, so each can be built when first read. Warns, and leaves the file as it is, should
 * a new SDK version lay it out differently.
 */
export const lazyTablestoreProtobuf: Plugin = {
  name: 'lazy-tablestore-protobuf',
  setup(build) {
    build.onLoad({ filter: COMPILED_PROTO }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      let deferred = 0;
      const contents = source.replace(TYPE_DEFINITION, (_, namespace: string, name: string, body: string) => {
        deferred++;
        return `        __deferType(${namespace}, ${JSON.stringify(name)}, function() {${body}        });`;
      });
      if (deferred === 0) return { warnings: [{ text: 'found no protobuf type to defer in the tablestore SDK: it now loads them all at cold start' }] };
      // After the "use strict" directive, which must stay first to keep the file strict.
      const strict = '"use strict";\n';
      return { contents: contents.includes(strict) ? contents.replace(strict, strict + DEFER) : DEFER + contents, loader: 'js' };
    });
  },
};
