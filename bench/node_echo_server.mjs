// A Node `ws` echo server for bench/compare_echo.py, using the pinned `ws`
// from tests/interop (npm ci --prefix tests/interop).
//   node bench/node_echo_server.mjs PORT [CERT KEY]   (with CERT and KEY: wss://)
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const { WebSocketServer } = require('ws');

const [portArg, cert, key] = process.argv.slice(2);
const port = Number(portArg || 9003);
const options = { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 };
let server;
let wss;
if (cert && key) {
  server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
  wss = new WebSocketServer({ server, ...options });
  server.listen(port, '127.0.0.1', () => console.log(`listening on wss://127.0.0.1:${port}`));
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port, ...options });
  wss.on('listening', () => console.log(`listening on ws://127.0.0.1:${port}`));
}
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
process.on('SIGTERM', () => wss.close(() => (server ? server.close(() => process.exit(0)) : process.exit(0))));
