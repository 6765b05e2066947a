/** Temporary STS keys of the service's RAM role, as Function Compute passes them with each invocation. */
export interface RoleKeys {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/**
 * What a handler builds from the role's keys (a Tablestore client and what uses it), kept until
 * Function Compute hands over other keys: STS keys rotate while an instance lives. `build` also
 * gets what was built for the previous keys, for state that outlives them.
 */
export function keptPerRoleKeys<T>(build: (keys: RoleKeys, previous: T | undefined) => T): (keys: RoleKeys) => T {
  let current: { id: string; value: T } | undefined;
  return (keys) => {
    const id = `${keys.accessKeyId}\n${keys.securityToken ?? ''}`;
    if (current?.id !== id) current = { id, value: build(keys, current?.value) };
    return current.value;
  };
}
