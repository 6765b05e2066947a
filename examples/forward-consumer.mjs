// A webhook consumer for dingtalk-callback's forward function (docs/forward.md): verifies each
// delivery with the Standard Webhooks secret, then reads the same fields whatever the source.
//   DINGTALK_FORWARD_SECRET=whsec_… node examples/forward-consumer.mjs   (PORT, default 4000)
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.DINGTALK_FORWARD_SECRET);
const seen = new Set(); // webhook-id: the same for one event across retries and replays

createServer(async (request, response) => {
  let body = '';
  for await (const chunk of request) body += chunk;
  let event;
  try {
    event = webhook.verify(body, request.headers); // throws unless signed with the secret, and recent
  } catch {
    return response.writeHead(400).end();
  }
  if (!seen.has(request.headers['webhook-id'])) {
    seen.add(request.headers['webhook-id']);
    const { source, eventType, eventId, corpId, eventTime, processInstanceId, payload } = event.data;
    console.log(JSON.stringify({ source, eventType, eventId, corpId, eventTime, processInstanceId, payload }));
  }
  response.writeHead(204).end();
}).listen(Number(process.env.PORT ?? 4000), () => console.error('listening'));
