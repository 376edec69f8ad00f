// Node `ws` clients against duplex_interop_server (routes in
// interop_server.cpp). Prints one "ok"/"FAIL" line per check; exit 1 if any
// failed.
//
//   node node_client.mjs --url ws://127.0.0.1:P --fragmenting-url ws://127.0.0.1:Q [--cafile CA]
//
// --url is a server started with --origin ALLOWED_ORIGIN, --fragmenting-url
// one started with --fragment-size FRAGMENT_SIZE. With wss:// URLs, --cafile
// is the certificate authority to trust (the servers' certificate is for
// localhost and 127.0.0.1), and the checks include the TLS server name the
// server saw.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';

import {
  ALLOWED_ORIGIN,
  FRAGMENT_SIZE,
  REFUSED_ORIGIN,
  REJECT_BODY,
  SIZES,
  binaryOfSize,
  difference,
  sendFragmented,
  text,
  textOfSize,
} from './peer_common.mjs';
import { CheckFailed, Connection, Refused, expect, trustCa } from './node_connection.mjs';

async function expectEcho(conn, sent) {
  conn.ws.send(sent.data, { binary: sent.isBinary });
  await expectEchoOf(conn, sent);
}

async function expectEchoOf(conn, sent) {
  const got = await conn.next('message', 60_000);
  const why = difference(sent, got);
  expect(why === null, `echo: ${why}`);
}

async function echoSizes({ url }) {
  const conn = await Connection.open(`${url}/echo`);
  for (const size of SIZES) {
    await expectEcho(conn, textOfSize(size));
    await expectEcho(conn, binaryOfSize(size));
  }
  await conn.close(1000);
  return `${2 * SIZES.length} echoes identical, sizes ${SIZES[0]}..${SIZES.at(-1)}`;
}

async function fragmentedSend({ url }) {
  const conn = await Connection.open(`${url}/echo`);
  // 1000-byte fragments of three-byte characters: no fragment but the last
  // is valid UTF-8 on its own, the message as a whole is.
  const euros = text('\u20ac'.repeat(3334));
  sendFragmented(conn.ws, euros, FRAGMENT_SIZE);
  await expectEchoOf(conn, euros);
  // Uneven fragments with an empty one among them (RFC 6455 allows it).
  const data = binaryOfSize(70_000);
  for (const [start, end] of [[0, 1], [1, 65536], [65536, 65536], [65536, 70_000]]) {
    conn.ws.send(data.data.subarray(start, end), { binary: true, fin: end === 70_000 });
  }
  await expectEchoOf(conn, data);
  // A control frame may come between a message's frames (RFC 6455 5.4).
  const plain = textOfSize(10_000);
  conn.ws.send(plain.data.subarray(0, 500), { binary: false, fin: false });
  conn.ws.ping('between fragments');
  conn.ws.send(plain.data.subarray(500), { binary: false, fin: true });
  await expectEchoOf(conn, plain);
  const pong = await conn.next('pong');
  expect(pong.toString() === 'between fragments', `pong "${pong}" for the ping between fragments`);
  await conn.close(1000);
  return 'text split inside characters (11 fragments), binary (4), ping between fragments: echoed';
}

async function fragmentedReceive({ fragmentingUrl }) {
  const conn = await Connection.open(`${fragmentingUrl}/echo`);
  const messages = [
    textOfSize(FRAGMENT_SIZE + 1),
    text('\u20ac'.repeat(3334)),
    binaryOfSize(65536),
    binaryOfSize(1024 * 1024),
  ];
  for (const sent of messages) await expectEcho(conn, sent);
  await conn.close(1000);
  return `${messages.length} messages the server fragmented came back whole`;
}

async function pingFromClient({ url }) {
  const conn = await Connection.open(`${url}/echo`);
  for (const payload of ['', 'node ping', 'p'.repeat(125)].map((s) => Buffer.from(s))) {
    conn.ws.ping(payload);
    const pong = await conn.next('pong');
    expect(pong.equals(payload), `ping of ${payload.length} bytes, pong of ${pong.length}`);
  }
  await conn.close(1000);
  return 'pongs of 0, 9 and 125 bytes matched their pings';
}

async function pingFromServer({ url }) {
  const payload = 'ping me, node';
  const conn = await Connection.open(`${url}/ping`);
  conn.ws.send(payload);
  const ping = await conn.next('ping');
  expect(ping.toString() === payload, `server pinged with ${JSON.stringify(ping.toString())}`);
  const report = await conn.next('message');
  expect(report.data.toString() === `pong:${payload}`, `server reported "${report.data}"`);
  await conn.close(1000);
  return 'server pinged with our payload and got the pong';
}

const CLIENT_CLOSES = [
  [1000, ''],
  [1001, 'going away'],
  [3000, 'registered code'],
  [4999, 'ünïcödé reason'],
  [4000, 'r'.repeat(123)], // the longest reason a close frame can carry
];

// GET over http:// or https:// (trusting --cafile): the body.
function httpGet(url, ca) {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const request = get(url, { ca, timeout: 10_000 }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks).toString()));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer in 10 s`)));
    request.on('error', reject);
  });
}

// The server must echo the code (RFC 6455 5.5.1); whether the reason arrived
// intact, its /last-close page says.
async function closeFromClient({ url, ca }) {
  const httpUrl = url.replace(/^ws/, 'http');
  for (const [code, reason] of CLIENT_CLOSES) {
    const conn = await Connection.open(`${url}/echo`);
    const got = await conn.close(code, reason);
    expect(got.code === code, `closed with ${code}, server answered ${got.code}`);
    const seen = await httpGet(`${httpUrl}/last-close`, ca);
    expect(seen === `${code} ${reason}`, `closed with ${code} "${reason}", server got "${seen}"`);
  }
  return `server got ${CLIENT_CLOSES.length} close codes and reasons intact and echoed the codes`;
}

const SERVER_CLOSES = [
  ['4001 bye now', 4001, 'bye now'],
  ['1000', 1000, ''],
  ['1011 internal trouble', 1011, 'internal trouble'],
  ['3001 ¡adiós!', 3001, '¡adiós!'],
  ['1005', 1005, ''], // an empty close frame: the peer reports "no status"
];

async function closeFromServer({ url }) {
  for (const [request, code, reason] of SERVER_CLOSES) {
    const conn = await Connection.open(`${url}/close`);
    conn.ws.send(request);
    const got = await conn.next('close');
    expect(
      got.code === code && got.reason === reason,
      `asked for "${request}", got ${got.code} "${got.reason}"`,
    );
  }
  return `server closed as asked ${SERVER_CLOSES.length} times`;
}

const SUBPROTOCOL_CASES = [
  [['chat.v1', 'chat.v2'], 'chat.v2'], // the server's preference wins
  [['chat.v1'], 'chat.v1'],
  [[], ''],
];

async function subprotocol({ url }) {
  for (const [offered, expected] of SUBPROTOCOL_CASES) {
    const conn = await Connection.open(`${url}/protocol`, { protocols: offered });
    expect(conn.ws.protocol === expected, `offered [${offered}], got "${conn.ws.protocol}"`);
    await expectEcho(conn, text('hello'));
    await conn.close(1000);
  }
  // The server selects none of these; `ws` then fails the connection itself
  // (a client may, RFC 6455 4.1), and its reason shows the server sent none.
  const refusal = 'Server sent no subprotocol';
  try {
    const conn = await Connection.open(`${url}/protocol`, { protocols: ['chat.v3'] });
    await conn.close(1000);
    throw new CheckFailed(`offered [chat.v3], got "${conn.ws.protocol}"`);
  } catch (e) {
    expect(e.message === refusal, `offered [chat.v3]: "${e.message}", expected "${refusal}"`);
  }
  return `${SUBPROTOCOL_CASES.length + 1} offers negotiated as expected`;
}

// `ws` offers permessage-deflate unless told not to; a server without it
// must decline the offer, and messages then go uncompressed.
async function compressionDeclined({ url }) {
  const conn = await Connection.open(`${url}/echo`, { perMessageDeflate: true });
  expect(conn.ws.extensions === '', `extensions in use: "${conn.ws.extensions}"`);
  await expectEcho(conn, textOfSize(100_000));
  await conn.close(1000);
  return 'permessage-deflate offer declined, 100000-byte echo identical';
}

async function queryString({ url }) {
  const conn = await Connection.open(`${url}/echo?room=1&note=a%20b`);
  await expectEcho(conn, text('routed by path'));
  await conn.close(1000);
  return '/echo?room=1&note=a%20b reached /echo';
}

async function expectRefusal(url, status, body, options = {}) {
  try {
    const conn = await Connection.open(url, options);
    await conn.close(1000);
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    expect(e.status === status, `refused with ${e.status}, not ${status}`);
    expect(body === undefined || e.body === body, `refused with body "${e.body}", not "${body}"`);
    return;
  }
  throw new CheckFailed(`${url} accepted the upgrade, expected ${status}`);
}

async function rejectedByHook({ url }) {
  await expectRefusal(`${url}/reject`, 403, REJECT_BODY);
  return `upgrade refused with 403 "${REJECT_BODY}"`;
}

async function origin({ url }) {
  await expectRefusal(`${url}/echo`, 403, undefined, { origin: REFUSED_ORIGIN });
  const conn = await Connection.open(`${url}/echo`, { origin: ALLOWED_ORIGIN });
  await expectEcho(conn, text('allowed'));
  await conn.close(1000);
  return `${REFUSED_ORIGIN} refused with 403, ${ALLOWED_ORIGIN} accepted`;
}

// SNI (RFC 6066): the host name of the URL reaches the server's upgrade hook;
// an IP address is not sent as a name (section 3).
async function serverName({ url }) {
  const byName = url.replace('wss://127.0.0.1:', 'wss://localhost:');
  for (const [target, expected] of [[byName, 'localhost'], [url, '']]) {
    const conn = await Connection.open(`${target}/sni`);
    const got = (await conn.next('message')).data.toString();
    expect(got === `sni:${expected}`, `${target}: server saw "${got}", expected "sni:${expected}"`);
    await conn.close(1000);
  }
  return 'server saw localhost by name, nothing for 127.0.0.1';
}

const CHECKS = [
  echoSizes,
  fragmentedSend,
  fragmentedReceive,
  pingFromClient,
  pingFromServer,
  closeFromClient,
  closeFromServer,
  subprotocol,
  compressionDeclined,
  queryString,
  rejectedByHook,
  origin,
];

const CHECK_LIMIT_MS = 120_000;

function withinLimit(promise, name) {
  let timer;
  const limit = new Promise((_, reject) => {
    const tooLong = () => reject(new CheckFailed(`${name} took over ${CHECK_LIMIT_MS} ms`));
    timer = setTimeout(tooLong, CHECK_LIMIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    'fragmenting-url': { type: 'string' },
    cafile: { type: 'string' },
  },
});
const urls = { url: values.url, fragmentingUrl: values['fragmenting-url'] };
if (!urls.url || !urls.fragmentingUrl) {
  console.error('usage: node node_client.mjs --url URL --fragmenting-url URL [--cafile CA]');
  process.exit(2);
}
if (values.cafile) {
  urls.ca = fs.readFileSync(values.cafile);
  trustCa(urls.ca);
}
const tls = urls.url.startsWith('wss://');

let failed = 0;
for (const check of tls ? [...CHECKS, serverName] : CHECKS) {
  try {
    const summary = await withinLimit(check(urls), check.name);
    console.log(`ok   node ${check.name}: ${summary}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL node ${check.name}: ${e.message || e}`);
  }
}
// Connections a failed check left behind must not keep the process alive.
process.exit(failed ? 1 : 0);
