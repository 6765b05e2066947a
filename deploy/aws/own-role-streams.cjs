// Serverless Framework v3 grants every stream event's read and on-failure permissions to the shared
// function role (IamRoleLambdaExecution), even when the stream's function runs under a role of its
// own. Here that would let the callback read the events stream and write to the dead-letter queue.
// This plugin takes those grants back off the shared role for functions that declare `role:`, whose
// own role (serverless.aws.yml, ForwardRole) already holds exactly what they need.
module.exports = class OwnRoleStreams {
  constructor(serverless) {
    this.hooks = {
      'after:package:compileEvents': () => {
        const { service } = serverless;
        const resources = service.provider.compiledCloudFormationTemplate.Resources;
        const shared = resources.IamRoleLambdaExecution;
        if (!shared) return;
        const granted = new Set();
        for (const name of service.getAllFunctions()) {
          const fn = service.getFunction(name);
          if (!fn.role) continue;
          for (const event of fn.events ?? []) {
            if (!event.stream) continue;
            granted.add(JSON.stringify(event.stream.arn));
            const onFailure = event.stream.destinations?.onFailure;
            if (onFailure) granted.add(JSON.stringify(onFailure.arn ?? onFailure));
          }
        }
        const [policy] = shared.Properties.Policies;
        policy.PolicyDocument.Statement = policy.PolicyDocument.Statement.flatMap((statement) => {
          const resources = [statement.Resource].flat();
          const kept = resources.filter((resource) => !granted.has(JSON.stringify(resource)));
          if (kept.length === resources.length) return [statement];
          return kept.length > 0 ? [{ ...statement, Resource: kept }] : [];
        });
      },
    };
  }
};
