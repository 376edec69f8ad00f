// A `ws` client connection with awaitable events, so that the checks in
// node_client.mjs read as sequences: send, then await the message, pong,
// ping or close that must follow, each within a time limit.
import { MAX_MESSAGE, loadWs } from './peer_common.mjs';

const { WebSocket } = await loadWs();

const STEP_LIMIT_MS = 10_000;

// The certificate authority (PEM) every wss:// connection trusts, if set.
let trustedCa;
export function trustCa(pem) {
  trustedCa = pem;
}

export class CheckFailed extends Error {}

export function expect(condition, why) {
  if (!condition) throw new CheckFailed(why);
}

// The server refused the upgrade with this HTTP status and body.
export class Refused extends Error {
  constructor(status, body) {
    super(`refused with HTTP ${status}: ${body}`);
    this.status = status;
    this.body = body;
  }
}

const KINDS = ['message', 'ping', 'pong', 'close'];

// The Sec-WebSocket-Extensions headers of an upgrade: what this client
// offered and what the server answered ('' for none).
export class Extensions {
  constructor(offered, answered) {
    this.offered = offered;
    this.answered = answered;
  }
}

export class Connection {
  // Resolves once open; rejects with Refused when the server answers the
  // upgrade with another status, or with the connection's error (which
  // then carries `extensions` when the server did answer with a 101).
  static open(url, { protocols = [], origin, perMessageDeflate = false } = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, {
        perMessageDeflate,
        maxPayload: MAX_MESSAGE,
        handshakeTimeout: STEP_LIMIT_MS,
        ...(origin ? { origin } : {}),
        ...(trustedCa ? { ca: trustedCa } : {}),
      });
      const conn = new Connection(ws);
      // `ws` checks the response's extensions after this event, so a
      // response it refuses still leaves its headers here. The request is
      // read from ws._req (the pinned version keeps it until then): what was
      // really sent, rather than what the options should have produced.
      ws.once('upgrade', (response) => {
        const offered = ws._req?.getHeader('sec-websocket-extensions') ?? '';
        const answered = response.headers['sec-websocket-extensions'] ?? '';
        conn.extensions = new Extensions(String(offered), answered);
      });
      ws.once('open', () => resolve(conn));
      // A no-op once settled; keeps later errors from throwing.
      ws.on('error', (e) => reject(Object.assign(e, { extensions: conn.extensions })));
      ws.once('unexpected-response', (request, response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          reject(new Refused(response.statusCode, Buffer.concat(chunks).toString()));
          request.destroy();
        });
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.extensions = null;
    this.queued = Object.fromEntries(KINDS.map((k) => [k, []]));
    this.waiting = Object.fromEntries(KINDS.map((k) => [k, []]));
    ws.on('message', (data, isBinary) => this.#arrived('message', { data, isBinary }));
    ws.on('ping', (data) => this.#arrived('ping', data));
    ws.on('pong', (data) => this.#arrived('pong', data));
    ws.on('close', (code, reason) => {
      const close = { code, reason: reason.toString() };
      // Whoever waits for anything else will not get it now.
      for (const kind of KINDS.filter((k) => k !== 'close')) {
        for (const waiter of this.waiting[kind].splice(0)) {
          const why = `closed (${code} "${close.reason}") while awaiting a ${kind}`;
          waiter.reject(new CheckFailed(why));
        }
      }
      this.#arrived('close', close);
    });
  }

  // The next event of `kind` (oldest first), or CheckFailed after `ms`.
  next(kind, ms = STEP_LIMIT_MS) {
    if (this.queued[kind].length) return Promise.resolve(this.queued[kind].shift());
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const timer = setTimeout(() => {
        this.waiting[kind].splice(this.waiting[kind].indexOf(waiter), 1);
        reject(new CheckFailed(`no ${kind} within ${ms} ms`));
      }, ms);
      waiter.resolve = (value) => (clearTimeout(timer), resolve(value));
      waiter.reject = (error) => (clearTimeout(timer), reject(error));
      this.waiting[kind].push(waiter);
    });
  }

  // Starts the close handshake; resolves with the code and reason the
  // server answered with.
  close(code, reason) {
    this.ws.close(code, reason);
    return this.next('close');
  }

  #arrived(kind, value) {
    const waiter = this.waiting[kind].shift();
    if (waiter) waiter.resolve(value);
    else this.queued[kind].push(value);
  }
}
