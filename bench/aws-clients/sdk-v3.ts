// One SSM GetParameters and one conditional PutItem with the AWS SDK v3, as the function made them before.
// tsconfig.json leaves this file out of `tsc`: the two clients' type declarations are ~330 files, a
// tenth of a cold type check, for ten lines the bench test runs anyway.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ITEM, NAMES, TABLE } from './shared';

export async function handler(): Promise<{ statusCode: number }> {
  const { Parameters = [] } = await new SSMClient({}).send(new GetParametersCommand({ Names: NAMES, WithDecryption: true }));
  if (Parameters.length !== NAMES.length) throw new Error('SSM answered no parameters');
  // The SDK reads AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_DYNAMODB itself.
  const dynamodb = new DynamoDBClient({});
  await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: ITEM(), ConditionExpression: 'attribute_not_exists(id)' }), { abortSignal: AbortSignal.timeout(1000) });
  return { statusCode: 200 };
}
