// Serverless loads plugins with require(); the plugin is TypeScript, so compile it on the fly with
// tsx, as every plugin shim here does. (tsx's namespaced require would break esbuild's lookup of
// its own binary, hence register().)
const { register } = require('tsx/cjs/api');

const unregister = register();
module.exports = require('./offline-plugin.ts').LocalStackPlugin;
unregister();
