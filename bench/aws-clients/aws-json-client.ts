// The same two calls with the functions' own client, providers/aws/aws-json-client.ts, made as providers/aws/setup.ts makes them.
import { DYNAMODB, functionClient, SSM } from '../../providers/aws/aws-json-client';
import { ITEM, NAMES, TABLE } from './shared';

export async function handler(): Promise<{ statusCode: number }> {
  const { Parameters = [] } = await functionClient(SSM, process.env).call<{ Parameters?: unknown[] }>('GetParameters', { Names: NAMES, WithDecryption: true });
  if (Parameters.length !== NAMES.length) throw new Error('SSM answered no parameters');
  await functionClient(DYNAMODB, process.env).call('PutItem', { TableName: TABLE, Item: ITEM(), ConditionExpression: 'attribute_not_exists(id)' }, AbortSignal.timeout(1000));
  return { statusCode: 200 };
}
