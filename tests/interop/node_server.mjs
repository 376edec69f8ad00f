// A Node `ws` server for the Duplex client to talk to. Same routes as
// py_server.py:
//
//   /echo         every message back unchanged
//   /fragmented   echoes in 1000-byte frames (text split inside characters),
//                 with a ping between the first two; `ws` does not show how a
//                 received message was framed, so unlike the Python peer this
//                 one cannot check that
//   /ping         text PAYLOAD: ping with PAYLOAD, then text "pong:PAYLOAD"
//                 once a pong with that payload came back
//   /close        text "CODE REASON": close with that code and reason ("1005":
//                 an empty close frame)
//   /protocol     selects chat.v2, else chat.v1, else nothing; echoes
//   /reject       the upgrade is refused with 403 "rejected by hook"
//   /origin       only ALLOWED_ORIGIN may connect (others: 403); echoes
//   /drive-sizes  sends text and binary at every size, expects each echoed,
//                 closes 1000 "sizes ok" or 4003 with what differed
//
// permessage-deflate, with the perMessageDeflate options DEFLATE_CONFIGS[NAME]
// (every other route declines compression; `ws` answers 400 when it can take
// none of the offers):
//
//   /deflate/NAME        text "negotiated: EXTENSIONS" (canonical() of the
//                        answer), then echoes; closes 4005 when a message
//                        arrives in a way Duplex does not send it
//   /drive-deflate/NAME  sends every message of deflateMessages(), expects
//                        each echoed and checks how the echo arrived; closes
//                        1000 "ok: PARAMETERS" ("ok" without any) or 4005
//                        with what went wrong
//
//   node node_server.mjs [--tls-cert PEM --tls-key PEM] [--no-arrival-checks]
//
// Prints "listening on ws://127.0.0.1:PORT" (wss:// with --tls-cert); SIGTERM
// closes every connection with 1001 and exits 0. --no-arrival-checks leaves
// out the checks of how messages arrive, which hold for Duplex only (for
// trying the peers against each other).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';

import {
  ALLOWED_ORIGIN,
  FRAGMENT_SIZE,
  MAX_MESSAGE,
  REJECT_BODY,
  SIZES,
  binaryOfSize,
  describe,
  difference,
  loadWs,
  sendFragmented,
  textOfSize,
} from './peer_common.mjs';
import { arrivalProblem, canonical, deflateMessages, parseExtensions } from './node_deflate.mjs';

const { WebSocketServer } = await loadWs();

const PREFERRED_SUBPROTOCOLS = ['chat.v2', 'chat.v1'];
const PONG_LIMIT_MS = 10_000;
const ECHO_LIMIT_MS = 60_000;
const SHUTDOWN_LIMIT_MS = 5_000;

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

// A control frame may come between the frames of a message (RFC 6455 5.4).
function echoFragmented(ws) {
  ws.on('message', (data, isBinary) => {
    if (data.length <= FRAGMENT_SIZE) return ws.send(data, { binary: isBinary });
    ws.send(data.subarray(0, FRAGMENT_SIZE), { binary: isBinary, fin: false });
    ws.ping('between fragments');
    sendFragmented(ws, { data: data.subarray(FRAGMENT_SIZE), isBinary }, FRAGMENT_SIZE);
  });
}

function pingBack(ws) {
  ws.on('message', (payload) => {
    const noPong = setTimeout(() => ws.close(4004, 'no pong'), PONG_LIMIT_MS);
    ws.once('pong', (got) => {
      clearTimeout(noPong);
      if (got.equals(payload)) ws.send(`pong:${payload}`);
      else ws.close(4004, 'pong payload differs from the ping');
    });
    ws.ping(payload);
  });
}

function closeAsAsked(ws) {
  ws.once('message', (data) => {
    const request = data.toString();
    const space = request.indexOf(' ');
    const code = Number(space < 0 ? request : request.slice(0, space));
    const reason = space < 0 ? '' : request.slice(space + 1);
    if (code === 1005) ws.close(); // an empty close frame
    else ws.close(code, reason);
  });
}

// Resolves with the next message, or null after `ms`.
function nextMessage(ws, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      resolve(null);
    }, ms);
    function onMessage(data, isBinary) {
      clearTimeout(timer);
      resolve({ data, isBinary });
    }
    ws.once('message', onMessage);
  });
}

async function driveSizes(ws) {
  for (const size of SIZES) {
    for (const sent of [textOfSize(size), binaryOfSize(size)]) {
      const reply = nextMessage(ws, ECHO_LIMIT_MS);
      ws.send(sent.data, { binary: sent.isBinary });
      const got = await reply;
      const why = got ? difference(sent, got) : `no echo of ${describe(sent)}`;
      if (why) return ws.close(4003, why);
    }
  }
  ws.close(1000, 'sizes ok');
}

const ROUTES = {
  '/echo': echo,
  '/fragmented': echoFragmented,
  '/ping': pingBack,
  '/close': closeAsAsked,
  '/protocol': echo,
  '/origin': echo,
  '/drive-sizes': driveSizes,
};

function pathOf(request) {
  return new URL(request.url, 'http://127.0.0.1').pathname;
}

// The server's preference decides, and only /protocol selects one.
function handleProtocols(offered, request) {
  if (pathOf(request) !== '/protocol') return false;
  return PREFERRED_SUBPROTOCOLS.find((p) => offered.has(p)) ?? false;
}

// perMessageDeflate options of the /deflate/NAME and /drive-deflate/NAME
// routes. threshold 0: every message goes out compressed.
const DEFLATE_CONFIGS = {
  default: { threshold: 0 },
  'no-takeover': { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 },
  // `ws` takes offers with server_no_context_takeover for ones it cannot
  // accept, and answers 400 when it can accept none of the offers.
  takeover: { serverNoContextTakeover: false, clientNoContextTakeover: false, threshold: 0 },
  // Offers of a smaller server window than 10 cannot be accepted.
  'server-window-10': { serverMaxWindowBits: 10, threshold: 0 },
  // Only offers with client_max_window_bits (of 9 or more) can be accepted.
  'client-window-9': { clientMaxWindowBits: 9, threshold: 0 },
};

const { values: options } = parseArgs({
  options: {
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'no-arrival-checks': { type: 'boolean', default: false },
  },
});
if (Boolean(options['tls-cert']) !== Boolean(options['tls-key'])) {
  console.error('node_server.mjs: --tls-cert and --tls-key go together');
  process.exit(2);
}

// One WebSocketServer per configuration; each remembers the extensions
// header of every 101 it sends, for the route to report.
const answers = new WeakMap();
const deflateServers = Object.fromEntries(
  Object.entries(DEFLATE_CONFIGS).map(([name, perMessageDeflate]) => {
    const server = new WebSocketServer({
      noServer: true,
      perMessageDeflate,
      maxPayload: MAX_MESSAGE,
    });
    server.on('headers', (headers, request) => {
      const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
      answers.set(request, line ? line.slice(line.indexOf(':') + 1).trim() : '');
    });
    return [name, server];
  }),
);

// A close reason fits in 123 bytes of UTF-8.
function shortReason(text) {
  const data = Buffer.from(text);
  if (data.length <= 123) return text;
  return `${data.subarray(0, 120).toString().replace(/\uFFFD$/, '')}...`;
}

// Bytes the socket delivered since the last call: the wire size of the one
// message in flight (the checks send one message at a time).
function wireCounter(ws) {
  let last = ws._socket.bytesRead;
  return () => {
    const now = ws._socket.bytesRead;
    const delta = now - last;
    last = now;
    return delta;
  };
}

// Why the way a message from Duplex arrived is not how Duplex sends it.
function arrivalOf(answer, label, message, wireBytes) {
  if (answer.length === 0 || options['no-arrival-checks']) return null;
  const takesOver = !answer[0][1].some(([p]) => p === 'client_no_context_takeover');
  return arrivalProblem(label, message, wireBytes, takesOver);
}

function deflateEcho(ws, answer) {
  ws.send(`negotiated: ${canonical(answer)}`);
  const wire = wireCounter(ws);
  ws.on('message', (data, isBinary) => {
    const message = { data, isBinary };
    const why = arrivalOf(answer, `message of ${describe(message)}`, message, wire());
    if (why) return ws.close(4005, shortReason(why));
    ws.send(data, { binary: isBinary });
  });
}

async function driveDeflate(ws, answer) {
  if (answer.length === 0) return ws.close(4005, 'permessage-deflate not negotiated');
  const wire = wireCounter(ws);
  for (const [label, sent] of deflateMessages()) {
    const reply = nextMessage(ws, ECHO_LIMIT_MS);
    ws.send(sent.data, { binary: sent.isBinary });
    const got = await reply;
    if (!got) return ws.close(4005, shortReason(`no echo of ${label}`));
    const wireBytes = wire();
    const why = difference(sent, got);
    if (why) return ws.close(4005, shortReason(`${label}: ${why}`));
    const how = arrivalOf(answer, label, sent, wireBytes);
    if (how) return ws.close(4005, shortReason(how));
  }
  const parameters = canonical(answer).split('; ').slice(1).join(' ');
  ws.close(1000, shortReason(parameters ? `ok: ${parameters}` : 'ok'));
}

const DEFLATE_ROUTES = { deflate: deflateEcho, 'drive-deflate': driveDeflate };

// ['deflate', NAME] or ['drive-deflate', NAME], or null.
function deflateRoute(path) {
  const parts = path.split('/');
  if (parts.length !== 3 || parts[0] !== '') return null;
  if (!Object.hasOwn(DEFLATE_ROUTES, parts[1]) || !Object.hasOwn(DEFLATE_CONFIGS, parts[2])) {
    return null;
  }
  return [parts[1], parts[2]];
}

function refuse(socket, status, body) {
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: MAX_MESSAGE,
  handleProtocols,
});
const notFound = (request, response) => response.writeHead(404).end();
const tls = options['tls-cert']
  ? { cert: fs.readFileSync(options['tls-cert']), key: fs.readFileSync(options['tls-key']) }
  : null;
const server = tls ? https.createServer(tls, notFound) : http.createServer(notFound);

server.on('upgrade', (request, socket, head) => {
  const path = pathOf(request);
  if (path === '/reject') return refuse(socket, 403, REJECT_BODY);
  if (path === '/origin' && request.headers.origin !== ALLOWED_ORIGIN) {
    return refuse(socket, 403, 'origin not allowed');
  }
  const deflate = deflateRoute(path);
  if (deflate) {
    const [kind, name] = deflate;
    return deflateServers[name].handleUpgrade(request, socket, head, (ws) => {
      ws.on('error', (e) => console.error(`${path}: ${e.message}`));
      DEFLATE_ROUTES[kind](ws, parseExtensions(answers.get(request) ?? ''));
    });
  }
  if (!Object.hasOwn(ROUTES, path)) return refuse(socket, 404, 'no such route');
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.on('error', (e) => console.error(`${path}: ${e.message}`));
    ROUTES[path](ws);
  });
});

// Every connection gets 1001; exit once they have all closed, terminating
// the ones that did not answer in time.
process.on('SIGTERM', () => {
  server.close();
  const open = [wss, ...Object.values(deflateServers)].flatMap((s) => [...s.clients]);
  if (open.length === 0) process.exit(0);
  let remaining = open.length;
  for (const ws of open) {
    ws.once('close', () => {
      if (--remaining === 0) process.exit(0);
    });
    ws.close(1001, '');
  }
  setTimeout(() => {
    for (const ws of open) ws.terminate();
  }, SHUTDOWN_LIMIT_MS).unref();
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${tls ? 'wss' : 'ws'}://127.0.0.1:${server.address().port}`);
});
