// Serverless loads plugins with require(); the bridge is TypeScript, so compile it on the fly with tsx.
// (tsx's namespaced require would break esbuild's lookup of its own binary, hence register().)
const { register } = require('tsx/cjs/api');

const unregister = register();
// Before serverless-aliyun-function-compute is loaded (this plugin is listed first), so that its
// Google Analytics module is replaced and never runs, whatever the environment, and its remove
// command gets the corrected removeBucket.
const patches = require('./provider-patches.ts');
patches.silenceProviderAnalytics();
patches.keepSharedCodeBucket();
module.exports = require('./serverless-bridge.ts').AliyunBridge;
unregister();
