// What the Lambda bundle aliased the SDK v3's default credential chain to while it used the SDK: the
// environment only, as Lambda gives the keys. The bench builds the SDK contender the same way.
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
