import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { optional } from '../core/environment';
import { AwsJsonClient, awsEndpoint, type AwsJsonService } from '../providers/aws/aws-json-client';
import { UsageError } from './command';

/**
 * The CLI's client for `service`: the functions' own small client, with the AWS credential chain
 * of the AWS CLI and SDKs (environment, `AWS_PROFILE` or the default profile, SSO, web identity, a
 * container or instance role), in `region` (`--region`, else `AWS_REGION` or `AWS_DEFAULT_REGION`),
 * at `endpoint` (`--endpoint`, else as the functions find it: `AWS_ENDPOINT_URL_<SERVICE>`,
 * `AWS_ENDPOINT_URL`, or the region's own in its partition).
 * @throws UsageError when no region is given.
 */
export function cliAwsClient(service: AwsJsonService, { region, endpoint }: { region?: string; endpoint?: string }): AwsJsonClient {
  const chosen = region ?? optional(process.env, 'AWS_REGION') ?? optional(process.env, 'AWS_DEFAULT_REGION');
  if (!chosen) throw new UsageError('no AWS region: pass --region R, or set AWS_REGION');
  return new AwsJsonClient({ service, region: chosen, credentials: defaultProvider(), endpoint: endpoint ?? awsEndpoint(service, chosen, process.env) });
}
