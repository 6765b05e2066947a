import type { Plugin } from 'esbuild';

/** The SDK's own files, the only importers whose requires are answered here. */
const SDK_FILE = /[\\/]tablestore[\\/]lib[\\/]/;
/** What the SDK requires of search and SQL: its entry loads `search.js` and `sql.js`, its decoder SQL's flatbuffers code. */
const LEFT_OUT = /^(\.\/search|\.\/sql|flatbuffers|\.\/sql_generated\.js)$/;
const NAMESPACE = 'tablestore-left-out';

/** A value whose every use throws, naming what was left out. */
const thrower = (what: string) =>
  `new Proxy({}, { get: function () { throw new Error("the tablestore SDK's ${what} is not in this bundle: deploy/aliyun/esbuild-no-search-or-sql.ts leaves search and SQL out"); } })`;

/**
 * An esbuild plugin that leaves the `tablestore` SDK's search and SQL parts out of a function's
 * bundle: the SDK loads them whole at start (`search.js`, `sql.js` and SQL's generated
 * `flatbuffers` code, ~25 KB), and no function calls a search or SQL operation
 * (`BUNDLED_OPERATIONS` of `esbuild-lazy-protobuf.ts`): ~5 ms less CPU at every cold start
 * (docs/performance.md). `TableStore.QueryType`, `TableStore.SQLDataType` and the like are then
 * undefined in the bundle, and decoding a SQL answer throws an error naming this file.
 */
export const tablestoreWithoutSearchOrSql: Plugin = {
  name: 'tablestore-without-search-or-sql',
  setup(build) {
    build.onResolve({ filter: LEFT_OUT }, ({ path, importer }) => (SDK_FILE.test(importer) ? { path, namespace: NAMESPACE } : undefined));
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, ({ path }) => ({
      contents:
        path === 'flatbuffers' ? `module.exports = { flatbuffers: ${thrower('flatbuffers (SQL)')} };`
        : path === './sql_generated.js' ? `module.exports = { SQLResponseColumns: ${thrower('SQL response decoding')} };`
        : '', // search.js and sql.js only add to the TableStore namespace
      loader: 'js',
    }));
  },
};
