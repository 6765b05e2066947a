// Serverless Framework loads plugins with require(), which reads JavaScript only: tsx reads the
// TypeScript plugin for it.
const { require: requireTypeScript } = require('tsx/cjs/api');

module.exports = requireTypeScript('./offline-plugin.ts', __filename).LocalStackPlugin;
