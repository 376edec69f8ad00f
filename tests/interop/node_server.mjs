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
// Prints "listening on ws://127.0.0.1:PORT"; SIGTERM closes every connection
// with 1001 and exits 0.
import http from 'node:http';

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
const server = http.createServer((request, response) => response.writeHead(404).end());

server.on('upgrade', (request, socket, head) => {
  const path = pathOf(request);
  if (path === '/reject') return refuse(socket, 403, REJECT_BODY);
  if (path === '/origin' && request.headers.origin !== ALLOWED_ORIGIN) {
    return refuse(socket, 403, 'origin not allowed');
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
  const open = [...wss.clients];
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
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
