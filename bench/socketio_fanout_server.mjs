// A Socket.IO server for `duplex bench --fanout --protocol socketio` (and
// bench/compare_push.py): a client's "subscribe" event joins it to a room
// (acknowledged), and a "publish" event is emitted as "msg" to everyone in
// the room "bench", the publisher included, as a push server's channel
// does. WebSocket transport only; Socket.IO pinned in tests/interop.
//   node bench/socketio_fanout_server.mjs PORT
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 9005);
const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'], perMessageDeflate: false,
  serveClient: false });
io.on('connection', (socket) => {
  socket.on('subscribe', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack('ok');
  });
  socket.on('publish', (data) => io.to('bench').emit('msg', data));
});
httpServer.listen(port, '127.0.0.1', 4096, () => console.log(`listening on ws://127.0.0.1:${port}`));
process.on('SIGTERM', () => { io.close(); httpServer.close(() => process.exit(0)); setTimeout(() => process.exit(0), 2000); });
