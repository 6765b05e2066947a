// The same two calls with the function's own client, providers/aws/aws-json-client.ts.
import { AwsJsonClient, credentialsFromEnv, dynamoDbPutClient, SSM } from '../../providers/aws/aws-json-client';
import { ITEM, NAMES, TABLE } from './shared';

export async function handler(): Promise<{ statusCode: number }> {
  const aws = { region: process.env.AWS_REGION!, credentials: credentialsFromEnv(process.env) };
  const ssm = new AwsJsonClient({ ...aws, service: SSM, endpoint: process.env.AWS_ENDPOINT_URL_SSM });
  const { Parameters = [] } = await ssm.call<{ Parameters?: unknown[] }>('GetParameters', { Names: NAMES, WithDecryption: true });
  if (Parameters.length !== NAMES.length) throw new Error('SSM answered no parameters');
  await dynamoDbPutClient({ ...aws, endpoint: process.env.DYNAMODB_ENDPOINT }).putItem({ TableName: TABLE, Item: ITEM(), ConditionExpression: 'attribute_not_exists(id)' }, AbortSignal.timeout(1000));
  return { statusCode: 200 };
}
