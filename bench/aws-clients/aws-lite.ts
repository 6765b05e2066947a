// The same two calls with @aws-lite/client and its DynamoDB and SSM plugins.
import awsLite from '@aws-lite/client';
import dynamodb from '@aws-lite/dynamodb';
import ssm from '@aws-lite/ssm';
import { NAMES, PLAIN_ITEM, TABLE } from './shared';

export async function handler(): Promise<{ statusCode: number }> {
  type Call = (input: Record<string, unknown>) => Promise<{ Parameters?: unknown[] }>;
  const aws = (await awsLite({ plugins: [dynamodb, ssm] })) as unknown as { SSM: { GetParameters: Call }; DynamoDB: { PutItem: Call } };
  const { Parameters = [] } = await aws.SSM.GetParameters({ Names: NAMES, WithDecryption: true, endpoint: process.env.AWS_ENDPOINT_URL_SSM });
  if (Parameters.length !== NAMES.length) throw new Error('SSM answered no parameters');
  await aws.DynamoDB.PutItem({ TableName: TABLE, Item: PLAIN_ITEM(), ConditionExpression: 'attribute_not_exists(id)', endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
  return { statusCode: 200 };
}
