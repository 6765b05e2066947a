import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * docs/architecture.md ("Floors"): what each folder may import, enforced here for every floor. Each
 * rule is a regular expression an import path must not match; a file gets every rule of its floor
 * in one `no-restricted-imports` (a later config object would replace an earlier one's rule, not add
 * to it). test/delivery/floors.test.ts proves each rule bites with a deliberately wrong import.
 */
const why = 'docs/architecture.md, "Floors"';
const rule = (regex, message) => ({ regex, message: `${message} (${why}).` });
const NO_DEPLOY = rule('(^|/)deploy/', 'run-time code (core, handlers, providers, cli) never imports deploy-time code');
const NO_TESTKIT = rule('(^|/)testkit/', 'only test/, bench/ and testkit/ itself import testkit/');
const NO_HANDLERS = rule('(^|/)handlers/', 'a handler is an entry point: nothing imports one');
const NO_ALIYUN = rule('(^|/)aliyun/', 'the AWS side never imports the Alibaba Cloud side');
const NO_AWS = rule('(^|/)aws/', 'the Alibaba Cloud side never imports the AWS side');
/** One AWS client path: run-time code calls AWS through providers/aws/aws-json-client.ts; the CLI takes the SDK's credential chain, nothing else of it. */
const NO_AWS_SDK = rule('^@aws-sdk/(?!credential-provider-node$)', 'run-time code calls AWS through providers/aws/aws-json-client.ts, never an AWS SDK client');
/** A handler imports the core and its own cloud's providers, nothing else (its SDK clients come from the provider's setup). */
const handlerOf = (cloud) => rule(`^(?!node:|\\.\\./\\.\\./core/|\\.\\./\\.\\./providers/${cloud}/)`, `handlers/${cloud}/ imports core/ and providers/${cloud}/ only`);

export const FLOORS = [
  { files: ['core/**/*.ts'], patterns: [rule('^(?!node:|\\./)', 'core/ imports node: built-ins and its own files only')] },
  { files: ['handlers/aws/**/*.ts'], patterns: [handlerOf('aws')] },
  { files: ['handlers/aliyun/**/*.ts'], patterns: [handlerOf('aliyun')] },
  { files: ['providers/aws/**/*.ts'], patterns: [NO_DEPLOY, NO_TESTKIT, NO_HANDLERS, NO_ALIYUN, NO_AWS_SDK] },
  { files: ['providers/aliyun/**/*.ts'], patterns: [NO_DEPLOY, NO_TESTKIT, NO_HANDLERS, NO_AWS] },
  { files: ['providers/local/**/*.ts'], patterns: [NO_DEPLOY, NO_TESTKIT, NO_HANDLERS, NO_ALIYUN, NO_AWS_SDK] },
  { files: ['cli/**/*.ts', 'bin/**'], patterns: [NO_DEPLOY, NO_TESTKIT, NO_HANDLERS, NO_AWS_SDK] },
  /** npm start's inspector: the core, and the CLI's push (`send`'s payloads and delivery); its store and sinks are handed in. */
  { files: ['inspector/**/*.ts'], patterns: [rule('^(?!node:|\\./|\\.\\./core/|\\.\\./cli/(deliver|event-payloads)$)', 'inspector/ imports core/, cli/deliver and cli/event-payloads only')] },
  { files: ['deploy/aws/**/*.ts'], patterns: [NO_TESTKIT, NO_HANDLERS, NO_ALIYUN] },
  { files: ['deploy/aliyun/**/*.ts'], patterns: [NO_TESTKIT, NO_HANDLERS, NO_AWS] },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.esbuild/', '.serverless/', '.data/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly' },
      // No rule here reads JSDoc: leaving it unparsed makes a cold lint ~8% cheaper, as tsc does.
      parserOptions: { jsDocParsingMode: 'none' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The inspector's page runs in a browser, and builds its DOM from text only.
    files: ['inspector/page/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(['document', 'window', 'fetch', 'URLSearchParams', 'FormData', 'history', 'location', 'navigator', 'EventSource', 'setTimeout'].map((name) => [name, 'readonly'])),
    },
    rules: {
      'no-restricted-properties': ['error', ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'write', 'writeln'].map((property) => ({ property, message: 'the page shows text only: build nodes with textContent (docs/inspector.md)' }))],
    },
  },
  ...FLOORS.map(({ files, patterns }) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })),
);
