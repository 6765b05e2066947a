// The aws-lite service plugins ship their types in separate packages; the bench needs only these.
declare module '@aws-lite/dynamodb' {
  const plugin: object;
  export default plugin;
}
declare module '@aws-lite/ssm' {
  const plugin: object;
  export default plugin;
}
