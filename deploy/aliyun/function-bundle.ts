import type { BuildOptions } from 'esbuild';
import { lazyTablestoreProtobuf } from './esbuild-lazy-protobuf';
import { tablestoreWithoutBufferConstructor } from './esbuild-no-buffer-constructor';
import { tablestoreWithoutSearchOrSql } from './esbuild-no-search-or-sql';

/**
 * How a function is bundled for Function Compute's Node.js `version` (`20`): one minified CommonJS
 * file holding everything it imports, the `tablestore` SDK trimmed to the protobuf types the
 * functions use ({@link lazyTablestoreProtobuf}), without its search and SQL parts
 * ({@link tablestoreWithoutSearchOrSql}) and without the deprecated `Buffer` constructor.
 * The bridge bundles every handler with these; the tests bundle the same way.
 */
export function functionBundleOptions(version: string): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    target: `node${version}`,
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    // Not strict: the tablestore SDK assigns undeclared variables, which throws in strict code,
    // and a bundle starting with "use strict" (tsconfig's strict implies it) makes all of it strict.
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
    plugins: [tablestoreWithoutSearchOrSql, lazyTablestoreProtobuf, tablestoreWithoutBufferConstructor],
    logLevel: 'warning',
  };
}
