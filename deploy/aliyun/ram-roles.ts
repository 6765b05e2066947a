import { isDeepStrictEqual } from 'node:util';

/** The RAM calls of `@alicloud/ram` the bridge makes (RPC parameters as RAM names them). */
export interface RamClient {
  getRole(params: { RoleName: string }): Promise<{ Role: RamRole }>;
  createRole(params: { RoleName: string; Description?: string; AssumeRolePolicyDocument: string }): Promise<{ Role: RamRole }>;
  getPolicy(params: { PolicyName: string; PolicyType: 'Custom' }): Promise<{ DefaultPolicyVersion: { PolicyDocument: string } }>;
  createPolicy(params: { PolicyName: string; Description?: string; PolicyDocument: string }): Promise<unknown>;
  createPolicyVersion(params: { PolicyName: string; PolicyDocument: string; SetAsDefault: boolean; RotateStrategy: string }): Promise<unknown>;
  listPoliciesForRole(params: { RoleName: string }): Promise<{ Policies: { Policy: Array<{ PolicyName: string; PolicyType: string }> } }>;
  attachPolicyToRole(params: { RoleName: string; PolicyName: string; PolicyType: string }): Promise<unknown>;
  detachPolicyFromRole(params: { RoleName: string; PolicyName: string; PolicyType: string }): Promise<unknown>;
  deleteRole(params: { RoleName: string }): Promise<unknown>;
  /** `CascadingDelete` deletes the policy's other versions with it; RAM refuses a policy that has any otherwise. */
  deletePolicy(params: { PolicyName: string; CascadingDelete: boolean }): Promise<unknown>;
}

export interface RamRole {
  RoleName: string;
  Arn: string;
}

/** A role as the provider's template describes it, with its custom policies (documents included). */
export interface RoleSpec {
  RoleName: string;
  Description?: string;
  AssumeRolePolicyDocument: object;
  Policies: PolicySpec[];
}
export interface PolicySpec {
  PolicyName: string;
  PolicyType?: 'Custom' | 'System';
  Description?: string;
  PolicyDocument?: object;
}

/** A statement of a RAM policy document. */
export interface Statement {
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

/** A role that only `service` (for example `ots.aliyuncs.com`) may assume, with one custom policy. */
export function serviceRole(roleName: string, service: string, description: string, policyName: string, statements: Statement[]): RoleSpec {
  return {
    RoleName: roleName,
    Description: description,
    AssumeRolePolicyDocument: { Version: '1', Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: [service] } }] },
    Policies: [{ PolicyName: policyName, PolicyType: 'Custom', Description: description, PolicyDocument: { Version: '1', Statement: statements } }],
  };
}

const notFound = (error: unknown, code: string) => (error as { name?: string }).name === `${code}Error`;

/**
 * Makes `spec` true in RAM, one awaited call at a time: the role exists, each custom policy exists
 * with the given document as its default version and is attached, and the policies named in
 * `replaced` (grants of older deploys, such as a broad system policy) are detached.
 * @returns the role, with its ARN.
 */
export async function ensureRole(ram: RamClient, spec: RoleSpec, log: (message: string) => void, replaced: string[] = []): Promise<RamRole> {
  let role: RamRole;
  try {
    role = (await ram.getRole({ RoleName: spec.RoleName })).Role;
  } catch (error) {
    if (!notFound(error, 'EntityNotExist.Role')) throw error;
    role = (await ram.createRole({ RoleName: spec.RoleName, Description: spec.Description, AssumeRolePolicyDocument: JSON.stringify(spec.AssumeRolePolicyDocument) })).Role;
    log(`RAM role ${spec.RoleName} created`);
  }
  for (const policy of spec.Policies) {
    if (policy.PolicyType === 'System' || !policy.PolicyDocument) continue;
    await ensurePolicy(ram, policy.PolicyName, policy.PolicyDocument, policy.Description, log);
  }
  const attached = (await ram.listPoliciesForRole({ RoleName: spec.RoleName })).Policies.Policy;
  for (const policy of spec.Policies) {
    if (attached.some((existing) => existing.PolicyName === policy.PolicyName)) continue;
    await ram.attachPolicyToRole({ RoleName: spec.RoleName, PolicyName: policy.PolicyName, PolicyType: policy.PolicyType ?? 'Custom' });
    log(`RAM policy ${policy.PolicyName} attached to ${spec.RoleName}`);
  }
  for (const existing of attached) {
    if (!replaced.includes(existing.PolicyName)) continue;
    await ram.detachPolicyFromRole({ RoleName: spec.RoleName, PolicyName: existing.PolicyName, PolicyType: existing.PolicyType });
    log(`RAM policy ${existing.PolicyName} detached from ${spec.RoleName}`);
  }
  return role;
}

/**
 * Creates a custom policy, or publishes `document` as its new default version when the deployed one
 * differs (RAM keeps five versions; the oldest non-default one goes).
 */
export async function ensurePolicy(ram: RamClient, name: string, document: object, description: string | undefined, log: (message: string) => void): Promise<void> {
  let deployed: object;
  try {
    deployed = JSON.parse((await ram.getPolicy({ PolicyName: name, PolicyType: 'Custom' })).DefaultPolicyVersion.PolicyDocument) as object;
  } catch (error) {
    if (!notFound(error, 'EntityNotExist.Policy')) throw error;
    await ram.createPolicy({ PolicyName: name, Description: description, PolicyDocument: JSON.stringify(document) });
    log(`RAM policy ${name} created`);
    return;
  }
  if (isDeepStrictEqual(deployed, document)) return;
  await ram.createPolicyVersion({ PolicyName: name, PolicyDocument: JSON.stringify(document), SetAsDefault: true, RotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded' });
  log(`RAM policy ${name} updated`);
}

/** What {@link removeRole} removes: a role and the custom policies made for it. */
export interface RoleRemoval {
  RoleName: string;
  /** Custom policies to delete once detached; any other policy attached to the role is only detached. */
  Policies: string[];
}

/**
 * Undoes {@link ensureRole}, one awaited call at a time and in the order RAM requires: every policy
 * detached from the role, the role deleted, then its custom policies deleted with all their versions.
 * What is already gone (a second remove, a deploy stopped half-way) is skipped, so a remove that
 * stopped part-way can simply be run again.
 */
export async function removeRole(ram: RamClient, removal: RoleRemoval, log: (message: string) => void): Promise<void> {
  const { RoleName } = removal;
  let attached: Array<{ PolicyName: string; PolicyType: string }> | undefined;
  try {
    attached = (await ram.listPoliciesForRole({ RoleName })).Policies.Policy;
  } catch (error) {
    if (!notFound(error, 'EntityNotExist.Role')) throw error;
  }
  for (const policy of attached ?? []) {
    try {
      await ram.detachPolicyFromRole({ RoleName, PolicyName: policy.PolicyName, PolicyType: policy.PolicyType });
      log(`RAM policy ${policy.PolicyName} detached from ${RoleName}`);
    } catch (error) {
      if (!notFound(error, 'EntityNotExist.Role.Policy')) throw error;
    }
  }
  log(`RAM role ${RoleName}: ${attached ? await deleted(() => ram.deleteRole({ RoleName }), 'EntityNotExist.Role', `RAM role ${RoleName}`) : 'already gone'}`);
  for (const PolicyName of removal.Policies) {
    log(`RAM policy ${PolicyName}: ${await deleted(() => ram.deletePolicy({ PolicyName, CascadingDelete: true }), 'EntityNotExist.Policy', `RAM policy ${PolicyName}`)}`);
  }
}

/**
 * Runs a RAM delete call: `gone` (its "does not exist" code) is no error; a `DeleteConflict.*`
 * (something else uses it, attached by hand perhaps) becomes one line that says what to do.
 */
async function deleted(call: () => Promise<unknown>, gone: string, what: string): Promise<'deleted' | 'already gone'> {
  try {
    await call();
    return 'deleted';
  } catch (error) {
    if (notFound(error, gone)) return 'already gone';
    const { code, data } = error as { code?: string; data?: { Message?: string } };
    if (!code?.startsWith('DeleteConflict')) throw error;
    // Not the SDK's message: it holds the signed request URL.
    throw new Error(`cannot delete ${what} (${code}: ${data?.Message ?? 'still in use'}): detach what still uses it in the RAM console, then run \`sls remove\` again`);
  }
}
