// Loaded with `node --require` into a child `serverless deploy` by the deploy rehearsal
// (test/aliyun/deploy-rehearsal.test.ts). It sends every outgoing TCP connection that is not to the
// loopback interface to the fake of testkit/aliyun-cloud.ts (port 443 to its HTTPS port
// ALIYUN_FAKE_PORT, any other to its plain-HTTP port ALIYUN_FAKE_HTTP_PORT), keeping the host
// name for TLS (SNI and certificate checks), so the real SDKs talk to the fake unchanged and nothing
// leaves the machine. It also skips the provider plugin's fixed waits (45 s after creating a log
// project or store, 5 s after a role): a fake needs no propagation time.
'use strict';

const dns = require('node:dns');
const Module = require('node:module');
const net = require('node:net');

const httpsPort = Number(process.env.ALIYUN_FAKE_PORT);
const httpPort = Number(process.env.ALIYUN_FAKE_HTTP_PORT);
if (!httpsPort || !httpPort) throw new Error('ALIYUN_FAKE_PORT and ALIYUN_FAKE_HTTP_PORT must be set');
const fakePort = (port) => (Number(port) === 443 ? httpsPort : httpPort);

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // Node passes either (options[, cb]), (port[, host][, cb]), or an array of normalized arguments.
  const normalized = Array.isArray(args[0]) ? args[0] : null;
  const options = normalized ? normalized[0] : args[0];
  if (options && typeof options === 'object' && !options.path && !LOOPBACK.has(options.host ?? 'localhost')) {
    options.port = fakePort(options.port);
    options.host = '127.0.0.1';
    delete options.lookup;
  } else if (typeof options === 'number' && typeof args[1] === 'string' && !LOOPBACK.has(args[1])) {
    args[0] = fakePort(args[0]);
    args[1] = '127.0.0.1';
  }
  return connect.apply(this, args);
};

// Clients that resolve names themselves first get the loopback address.
const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options];
  if (LOOPBACK.has(hostname)) return lookup.call(this, hostname, options, callback);
  const all = typeof options === 'object' && options.all;
  process.nextTick(() => (all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));
  return undefined;
};

const load = Module._load;
Module._load = function (request, ...rest) {
  const loaded = load.call(this, request, ...rest);
  if (/[\\/]provider[\\/]aliyunProvider(\.js)?$/.test(request) && loaded && loaded.prototype && !loaded.prototype.__rehearsal) {
    loaded.prototype.sleep = async () => undefined;
    loaded.prototype.__rehearsal = true;
  }
  return loaded;
};
