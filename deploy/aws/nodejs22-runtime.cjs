// Serverless Framework v3 predates Lambda's nodejs22.x runtime, and its configuration schema would
// call serverless.aws.yml invalid on every command. This plugin adds the runtime to that schema.
module.exports = class Nodejs22Runtime {
  constructor(serverless) {
    const runtimes = serverless.configSchemaHandler.schema.definitions.awsLambdaRuntime?.enum;
    if (runtimes && !runtimes.includes('nodejs22.x')) runtimes.push('nodejs22.x');
  }
};
