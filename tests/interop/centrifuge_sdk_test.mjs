// The `centrifuge` JavaScript SDK (npm, pinned) against `duplex serve`:
// connect, subscribe, receive what backends publish over the HTTP API,
// lose the connection and recover exactly the missed publications, or be
// told it cannot (more missed than the history holds, a new epoch after a
// restart); tokens valid, expired, forged and for the wrong channel.
//
//   node centrifuge_sdk_test.mjs /path/to/duplex
//
// The SDK reaches the server through a TCP relay of this script's, so the
// test can cut the connection the way a bad network does.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';

const duplex = process.argv[2];
if (!duplex) {
  console.error('usage: centrifuge_sdk_test.mjs DUPLEX_BINARY');
  process.exit(2);
}
const API_KEY = 'test-api-key';
const SECRET = 'test-hmac-secret';
const deadline = setTimeout(() => fail('the whole test took over 90 s'), 90_000);
const children = new Set();

function fail(why) {
  console.error(`FAIL: ${why}`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}

function check(condition, what) {
  if (!condition) fail(what);
  console.log(`ok: ${what}`);
}

function withTimeout(promise, ms, what) {
  return Promise.race([promise, new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
}

// `duplex serve` on a free port, with history; resolves to its port.
function startServer(extra = []) {
  const child = spawn(duplex, ['serve', '--port', '0', '--api-key', API_KEY,
    '--token-hmac-secret', SECRET, '--history-size', '10', '--history-ttl', '300',
    '--presence', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on ws:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`duplex serve exited with ${code}`)));
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.child.once('exit', resolve);
    server.child.kill('SIGTERM');
  });
}

// A relay from a local port to the server that can drop every connection
// and refuse new ones for a while.
class Relay {
  constructor() {
    this.target = 0;
    this.open = true;
    this.sockets = new Set();
    this.server = net.createServer((client) => {
      if (!this.open) { client.destroy(); return; }
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () =>
      resolve(this.server.address().port)));
  }
  cut() {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }
  close() { this.server.close(); }
}

async function api(port, method, body) {
  const r = await fetch(`http://127.0.0.1:${port}/api/${method}`, {
    method: 'POST', headers: { 'X-API-Key': API_KEY }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`/api/${method}: HTTP ${r.status}`);
  return r.json();
}

function b64url(v) { return Buffer.from(JSON.stringify(v)).toString('base64url'); }
function jwt(claims, secret = SECRET) {
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const payload = b64url(claims);
  const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
  return `${head}.${payload}.${sig}`;
}
const now = () => Math.floor(Date.now() / 1000);

// A client whose events are collected; `until` waits for one.
function client(url, options = {}) {
  const c = new Centrifuge(url, { websocket: WebSocket, minReconnectDelay: 100,
    maxReconnectDelay: 300, ...options });
  c.events = [];
  for (const e of ['connected', 'disconnected', 'connecting', 'error']) {
    c.on(e, (ctx) => c.events.push({ type: e, ctx }));
  }
  c.until = (type, pred = () => true, ms = 10_000) => withTimeout(new Promise((resolve) => {
    const seen = c.events.find((e) => e.type === type && pred(e.ctx));
    if (seen) { resolve(seen.ctx); return; }
    const handler = (ctx) => { if (pred(ctx)) { c.off(type, handler); resolve(ctx); } };
    c.on(type, handler);
  }), ms, `client event ${type}`);
  return c;
}

function subscription(c, channel, options = {}) {
  const s = c.newSubscription(channel, { recoverable: true, ...options });
  s.pubs = [];
  s.subscribedEvents = [];
  s.on('publication', (ctx) => s.pubs.push(ctx));
  s.on('subscribed', (ctx) => s.subscribedEvents.push(ctx));
  s.untilSubscribed = (n, ms = 10_000) => withTimeout(new Promise((resolve) => {
    const poll = setInterval(() => {
      if (s.subscribedEvents.length >= n) { clearInterval(poll); resolve(s.subscribedEvents[n - 1]); }
    }, 10);
  }), ms, `subscribed #${n} on ${channel}`);
  s.untilPubs = (n, ms = 10_000) => withTimeout(new Promise((resolve) => {
    const poll = setInterval(() => {
      if (s.pubs.length >= n) { clearInterval(poll); resolve(); }
    }, 10);
  }), ms, `${n} publications on ${channel}`);
  return s;
}

const texts = (pubs) => pubs.map((p) => p.data.n);

async function recovery() {
  const server = await startServer();
  const relay = new Relay();
  relay.target = server.port;
  const relayPort = await relay.listen();
  const c = client(`ws://127.0.0.1:${relayPort}/connection/websocket`,
    { token: jwt({ sub: 'alice', exp: now() + 600 }) });
  const s = subscription(c, 'news');
  s.subscribe();
  c.connect();
  const first = await s.untilSubscribed(1);
  check(first.recoverable === true && first.wasRecovering === false, 'subscribed, recoverable');

  const published = await api(server.port, 'publish', { channel: 'news', data: { n: 1 } });
  check(published.result.offset === 1 && typeof published.result.epoch === 'string',
    'publish over the API answers with offset and epoch');
  await s.untilPubs(1);
  check(s.pubs[0].data.n === 1 && s.pubs[0].offset === 1, 'the SDK receives the publication');

  // The network drops; five publications go out meanwhile.
  relay.cut();
  await c.until('connecting', (ctx) => ctx.code !== 0);
  for (let n = 2; n <= 6; ++n) await api(server.port, 'publish', { channel: 'news', data: { n } });
  relay.open = true;
  const again = await s.untilSubscribed(2);
  check(again.wasRecovering === true && again.recovered === true, 'recovered after the drop');
  await s.untilPubs(6);
  check(JSON.stringify(texts(s.pubs)) === '[1,2,3,4,5,6]', 'exactly the missed ones, in order');
  await api(server.port, 'publish', { channel: 'news', data: { n: 7 } });
  await s.untilPubs(7);
  check(s.pubs[6].data.n === 7 && s.pubs.length === 7, 'and newer ones after them, once');

  // More missed than the history holds (10): not recovered.
  relay.cut();
  await c.until('connecting', (ctx) => ctx.code !== 0 && c.events.filter((e) => e.type === 'connecting').length >= 2);
  for (let n = 8; n <= 22; ++n) await api(server.port, 'publish', { channel: 'news', data: { n } });
  relay.open = true;
  const third = await s.untilSubscribed(3);
  check(third.wasRecovering === true && third.recovered === false,
    'more missed than the history holds: recovered false');

  // The server restarts: its history is gone and the epoch says so.
  await stopServer(server);
  const restarted = await startServer();
  relay.target = restarted.port;
  const fourth = await s.untilSubscribed(4, 20_000);
  check(fourth.wasRecovering === true && fourth.recovered === false,
    'after a restart (new epoch): recovered false');
  const before = s.pubs.length;
  await api(restarted.port, 'publish', { channel: 'news', data: { n: 100 } });
  await s.untilPubs(before + 1);
  check(s.pubs[before].data.n === 100, 'delivery goes on after the restart');

  c.disconnect();
  relay.close();
  await stopServer(restarted);
}

// A restart with --history-file: the history and the epoch outlive the
// process, so a client that was away during the restart recovers.
async function restartWithHistory() {
  const dir = mkdtempSync(path.join(tmpdir(), 'duplex-history-'));
  const file = path.join(dir, 'history.jsonl');
  const server = await startServer(['--history-file', file]);
  const relay = new Relay();
  relay.target = server.port;
  const relayPort = await relay.listen();
  const c = client(`ws://127.0.0.1:${relayPort}/connection/websocket`,
    { token: jwt({ sub: 'erin' }) });
  const s = subscription(c, 'kept');
  s.subscribe();
  c.connect();
  await s.untilSubscribed(1);
  await api(server.port, 'publish', { channel: 'kept', data: { n: 1 } });
  await s.untilPubs(1);

  relay.cut();
  await c.until('connecting', (ctx) => ctx.code !== 0);
  for (let n = 2; n <= 4; ++n) await api(server.port, 'publish', { channel: 'kept', data: { n } });
  await stopServer(server);
  const restarted = await startServer(['--history-file', file]);
  relay.target = restarted.port;
  relay.open = true;
  const again = await s.untilSubscribed(2, 20_000);
  check(again.wasRecovering === true && again.recovered === true,
    'restart with --history-file: recovered (same epoch, history read back)');
  await s.untilPubs(4);
  await api(restarted.port, 'publish', { channel: 'kept', data: { n: 5 } });
  await s.untilPubs(5);
  check(JSON.stringify(texts(s.pubs)) === '[1,2,3,4,5]',
    'the publications missed across the restart, in order, then the next one, once');
  c.disconnect();
  relay.close();
  await stopServer(restarted);
  rmSync(dir, { recursive: true, force: true });
}

async function tokens() {
  const server = await startServer(['--host', '127.0.0.1']);
  const url = `ws://127.0.0.1:${server.port}/connection/websocket`;

  const forged = client(url, { token: jwt({ sub: 'mallory' }, 'not-the-secret') });
  forged.connect();
  const f = await forged.until('disconnected');
  check(f.code === 3500, `forged token: disconnected with 3500 (got ${f.code})`);

  let calls = 0;
  const expired = client(url, {
    token: jwt({ sub: 'bob', exp: now() - 10 }),
    getToken: async () => { calls += 1; return jwt({ sub: 'bob', exp: now() + 600 }); },
  });
  expired.connect();
  await expired.until('connected');
  check(calls === 1, 'expired token: the SDK gets a new one and connects');
  expired.disconnect();

  const c = client(url, { token: jwt({ sub: 'carol' }) });
  const wrong = c.newSubscription('$private', { token: jwt({ sub: 'carol', channel: '$other' }) });
  c.connect();
  wrong.subscribe();
  const w = await c.until('disconnected');
  check(w.code === 3500, `subscription token for another channel: 3500 (got ${w.code})`);

  const d = client(url, { token: jwt({ sub: 'dave' }) });
  const right = subscription(d, '$private', { token: jwt({ sub: 'dave', channel: '$private' }) });
  const none = d.newSubscription('$secret');
  let denied = null;
  none.on('unsubscribed', (ctx) => { denied = ctx; });
  d.connect();
  right.subscribe();
  none.subscribe();
  await right.untilSubscribed(1);
  await withTimeout(new Promise((resolve) => {
    const poll = setInterval(() => { if (denied) { clearInterval(poll); resolve(); } }, 10);
  }), 5000, 'unsubscribed without token');
  check(denied.code === 103, `private channel without a token: 103 (got ${denied.code})`);
  await api(server.port, 'publish', { channel: '$private', data: { n: 1 } });
  await right.untilPubs(1);
  check(right.pubs[0].data.n === 1, 'private channel with its token receives');
  d.disconnect();
  await stopServer(server);
}

try {
  await recovery();
  await restartWithHistory();
  await tokens();
  clearTimeout(deadline);
  console.log('PASS');
  process.exit(0);
} catch (e) {
  fail(e.stack || String(e));
}
