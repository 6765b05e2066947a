import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsJsonClient, SSM } from '../providers/aws/aws-json-client';

/**
 * SSM cannot run here, so this is a stand-in for its one call the function makes: a local HTTP
 * server answering `GetParameters` in SSM's JSON protocol, so the functions' real clients are exercised.
 */
export class FakeSsm {
  /** Parameter name → value; edit freely between calls. */
  readonly parameters = new Map<string, string>();
  /** The body of every `GetParameters` request received. */
  readonly requests: { Names: string[]; WithDecryption?: boolean }[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const input = JSON.parse(body) as { Names: string[]; WithDecryption?: boolean };
      this.requests.push(input);
      const known = input.Names.filter((name) => this.parameters.has(name));
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify({
          Parameters: known.map((name) => ({ Name: name, Type: 'SecureString', Value: this.parameters.get(name), Version: 1 })),
          InvalidParameters: input.Names.filter((name) => !this.parameters.has(name)),
        }),
      );
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Its URL, for an SSM client's `endpoint` (or `AWS_ENDPOINT_URL_SSM`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The functions' own SSM client, pointed at this server. */
  jsonClient(): AwsJsonClient {
    return new AwsJsonClient({ service: SSM, endpoint: this.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
