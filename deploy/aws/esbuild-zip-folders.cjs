// serverless-esbuild (1.57) zips each function by way of a folder it makes in the system temporary
// folder, `<function>-<pid>-<time>-<hex>`, and its clean-up cannot delete a folder that holds files:
// every `sls package` and `sls deploy` left one per function behind. This plugin deletes the ones
// this process made once the functions are zipped.
const { readdirSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

function removeZipFolders() {
  const own = new RegExp(`^.+-${process.pid}-\\d+-[0-9a-f]{8}$`);
  for (const name of readdirSync(tmpdir())) if (own.test(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
}

module.exports = class EsbuildZipFolders {
  constructor() {
    this.hooks = { 'after:package:createDeploymentArtifacts': removeZipFolders, 'after:deploy:function:packageFunction': removeZipFolders };
  }
};
