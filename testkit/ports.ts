import { createServer, type AddressInfo, type Server } from 'node:net';

/** Starts `server` on a port of 127.0.0.1 the OS picks, and answers its base URL, `http://127.0.0.1:PORT`. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = Number(new URL(await listenOnLoopback(server)).port);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
