// A Node `ws` broadcast server for bench/compare_fanout.py: every message
// goes to every connected client, the sender included (as duplex serve
// --broadcast does). Uses the pinned `ws` from tests/interop.
//   node bench/node_broadcast_server.mjs PORT
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 9004);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, backlog: 4096 });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => console.log(`listening on ws://127.0.0.1:${port}`));
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
