// A Node `ws` echo server for bench/compare_echo.py, using the pinned `ws`
// from tests/interop (npm ci --prefix tests/interop).
//   node bench/node_echo_server.mjs PORT
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 9003);
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on('listening', () => console.log(`listening on ws://127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
