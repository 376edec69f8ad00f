// A small browser client for the push server of `duplex serve`: Centrifugo's
// client protocol (JSON, protocol v2), the same one the centrifuge SDK
// speaks, in one ES module with no dependencies.
//
//   import { PushClient } from './push_client.js';
//   const client = new PushClient('ws://127.0.0.1:9002/connection/websocket');
//   const sub = client.newSubscription('chat:lobby', { joinLeave: true });
//   sub.on('publication', (pub) => console.log(pub.data));
//   sub.on('subscribed', (ctx) => console.log('recovered?', ctx.recovered));
//   sub.subscribe();
//   client.connect();
//
// What it does:
// - connect (anonymous, or with a token), subscribe, unsubscribe, publish,
//   presence, presence_stats and history; each command carries an id and
//   its reply is matched by that id (with a timeout);
// - several commands may share one frame, one JSON object a line: the
//   server's frames are split on '\n', and on (re)connect the connect and
//   every subscribe go out together;
// - the server's pings (`{}`) are answered with `{}`; a server silent for
//   longer than its ping interval plus a margin counts as gone;
// - pushes: publications, join, leave, and unsubscribe by the server;
// - reconnects with exponential backoff and full jitter, and resubscribes;
//   a recoverable subscription asks for what it missed (`recover: true`
//   with the offset of the last publication it saw and the channel's
//   epoch), and its `subscribed` event says whether it was recovered and
//   how many publications came back;
// - close codes 3500-3999 and 4500-4999 (and 1009) are terminal, as in the
//   SDK: the client stays disconnected. Everything else reconnects.

/** Client states. */
export const State = Object.freeze({
  disconnected: 'disconnected',
  connecting: 'connecting',
  connected: 'connected',
});

/** Subscription states. */
export const SubState = Object.freeze({
  unsubscribed: 'unsubscribed',
  subscribing: 'subscribing',
  subscribed: 'subscribed',
});

/** An error reply from the server ({code, message}), or a client-side one
 * (code < 100: 1 timeout, 2 connection closed, 3 client not connected). */
export class PushError extends Error {
  constructor(code, message, temporary = false) {
    super(message);
    this.name = 'PushError';
    this.code = code;
    this.temporary = temporary;
  }
}

const ERROR_TIMEOUT = 1;
const ERROR_CLOSED = 2;
const ERROR_NOT_CONNECTED = 3;

// Close codes after which the SDK does not reconnect.
function isTerminalClose(code) {
  return (code >= 3500 && code <= 3999) || (code >= 4500 && code <= 4999) || code === 1009;
}

// Full jitter: anywhere from `min` to `min + min * 2^step`, capped at `max`.
function backoff(step, min, max) {
  const span = Math.min(max, min * 2 ** Math.min(step, 31));
  return Math.min(max, min + Math.floor(Math.random() * span));
}

// A tiny event emitter: on(name, fn) returns a function that removes fn.
class Emitter {
  constructor() {
    this._listeners = new Map();
  }

  on(name, fn) {
    if (!this._listeners.has(name)) this._listeners.set(name, new Set());
    this._listeners.get(name).add(fn);
    return () => this._listeners.get(name)?.delete(fn);
  }

  _emit(name, ...args) {
    for (const fn of [...(this._listeners.get(name) ?? [])]) {
      try {
        fn(...args);
      } catch (error) {
        // One listener's bug must not stop the others or the client.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * A connection to the push server. Events:
 * - `state` ({state, previous}): every change of `state`;
 * - `connecting` ({code, reason, delay}): the connection is gone and the
 *   next attempt comes in `delay` ms (code and reason say why);
 * - `connected` ({client, version}): the connect command was answered;
 * - `disconnected` ({code, reason}): stopped for good (or by `disconnect()`);
 * - `error` ({type, error}): something worth showing went wrong.
 */
export class PushClient extends Emitter {
  /**
   * @param {string} url the WebSocket URL (…/connection/websocket)
   * @param {object} [options]
   * @param {string} [options.token] a connection token (JWT); none: anonymous
   * @param {number} [options.minReconnectDelay=500] first backoff step, ms
   * @param {number} [options.maxReconnectDelay=20000] backoff cap, ms
   * @param {number} [options.timeout=5000] how long a command waits for its reply, ms
   * @param {number} [options.maxServerPingDelay=10000] grace after a missed ping, ms
   * @param {string} [options.name='js'] the client's name in the connect command
   */
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = {
      token: '',
      minReconnectDelay: 500,
      maxReconnectDelay: 20000,
      timeout: 5000,
      maxServerPingDelay: 10000,
      name: 'js',
      ...options,
    };
    this.state = State.disconnected;
    this.clientId = null;
    this._ws = null;
    this._nextId = 1; // command ids grow for the client's whole life
    this._calls = new Map(); // id -> {resolve, reject, timer}
    this._subs = new Map(); // channel -> Subscription
    this._attempts = 0; // failed attempts since the last connect
    this._reconnectTimer = null;
    this._pingTimer = null;
    this._pingInterval = 0; // s, from the connect result
    this.reconnectAt = 0; // Date.now() of the next attempt while connecting
    this.lastClose = null; // {code, reason} of the last connection lost
  }

  /** Connects (or reconnects after `disconnect()`). */
  connect() {
    if (this.state !== State.disconnected) return;
    this._attempts = 0;
    this._setState(State.connecting);
    this._open();
  }

  /** Closes the connection and stays disconnected. */
  disconnect() {
    if (this.state === State.disconnected) return;
    this._stop(0, 'disconnect called');
  }

  /** A subscription to `channel` (one per channel; the same object again).
   * @param {object} [options]
   * @param {boolean} [options.recoverable] ask for recovery (namespaces with
   *   force_recovery make every subscription recoverable anyway)
   * @param {boolean} [options.joinLeave] ask for join/leave pushes */
  newSubscription(channel, options = {}) {
    if (this._subs.has(channel)) return this._subs.get(channel);
    const sub = new Subscription(this, channel, options);
    this._subs.set(channel, sub);
    return sub;
  }

  /** The subscription to `channel`, if any. */
  getSubscription(channel) {
    return this._subs.get(channel) ?? null;
  }

  /** Forgets a subscription (unsubscribing it first). */
  removeSubscription(sub) {
    if (!sub) return;
    sub.unsubscribe();
    this._subs.delete(sub.channel);
  }

  /** Publishes `data` (any JSON value) to `channel`; resolves with {}. */
  publish(channel, data) {
    return this._call('publish', { channel, data });
  }

  /** Who is subscribed: {presence: {clientId: {user, client, conn_info?}}}. */
  presence(channel) {
    return this._call('presence', { channel });
  }

  /** How many are subscribed: {num_clients, num_users}. */
  presenceStats(channel) {
    return this._call('presence_stats', { channel });
  }

  /** History: {publications, epoch, offset}. `options`: {limit, since:
   * {offset, epoch}, reverse}. */
  history(channel, options = {}) {
    return this._call('history', { channel, ...options });
  }

  // -------------------------------------------------------------------------
  // The connection

  _setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this._emit('state', { state, previous });
  }

  _open() {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this._emit('error', { type: 'transport', error });
      this._lost(1006, String(error.message || error));
      return;
    }
    this._ws = ws;
    // A connection attempt may not hang: the connect reply must come in time.
    const openTimer = setTimeout(() => {
      if (this._ws === ws && this.state === State.connecting) ws.close();
    }, this.options.timeout + 5000);
    ws.onopen = () => {
      if (this._ws !== ws) return;
      this._sendConnect();
    };
    ws.onmessage = (event) => {
      if (this._ws !== ws) return;
      this._onFrame(typeof event.data === 'string' ? event.data : '');
    };
    ws.onclose = (event) => {
      clearTimeout(openTimer);
      if (this._ws !== ws) return;
      this._ws = null;
      this._lost(event.code, event.reason);
    };
  }

  // The connect command and a subscribe for every subscription that wants
  // to be subscribed, in one frame.
  _sendConnect() {
    const connect = { name: this.options.name };
    if (this.options.token) connect.token = this.options.token;
    const commands = [];
    const connectId = this._command('connect', connect, commands);
    const pending = [];
    for (const sub of this._subs.values()) {
      if (sub.state === SubState.unsubscribed) continue;
      sub._inFlight = true;
      pending.push([sub, this._command('subscribe', sub._subscribeRequest(), commands)]);
    }
    this._sendFrame(commands);
    connectId.then(
      (result) => {
        this._attempts = 0;
        this.clientId = result.client;
        this._pingInterval = Number(result.ping) || 0;
        this._armPingWatch();
        this._setState(State.connected);
        this._emit('connected', { client: result.client, version: result.version });
        // Subscriptions asked for after the connect went out.
        for (const sub of this._subs.values()) {
          if (sub.state === SubState.subscribing && !sub._inFlight) sub._send();
        }
      },
      (error) => {
        // A connect error: temporary ones retry, others stop (as the SDK).
        this._emit('error', { type: 'connect', error });
        if (error.code < 100 || error.temporary || error.code === 109) {
          this._ws?.close();
        } else {
          this._stop(error.code, error.message);
        }
      },
    );
    for (const [sub, reply] of pending) {
      reply.then(
        (result) => sub._onSubscribed(result),
        (error) => sub._onSubscribeError(error),
      );
    }
  }

  // The connection is gone: fail what waits, then reconnect or stop.
  _lost(code, reason) {
    clearTimeout(this._pingTimer);
    this._pingTimer = null;
    this.lastClose = { code, reason };
    this._failCalls(new PushError(ERROR_CLOSED, 'connection closed', true));
    for (const sub of this._subs.values()) sub._onConnectionLost();
    if (this.state === State.disconnected) return;
    if (isTerminalClose(code)) {
      this._stop(code, reason);
      return;
    }
    const delay = backoff(this._attempts, this.options.minReconnectDelay, this.options.maxReconnectDelay);
    this._attempts += 1;
    this.reconnectAt = Date.now() + delay;
    this._reconnectTimer = setTimeout(() => this._open(), delay);
    this._setState(State.connecting);
    this._emit('connecting', { code, reason, delay });
  }

  _stop(code, reason) {
    clearTimeout(this._reconnectTimer);
    clearTimeout(this._pingTimer);
    this._reconnectTimer = this._pingTimer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) ws.close(1000, 'client disconnect');
    this._failCalls(new PushError(ERROR_CLOSED, 'connection closed'));
    for (const sub of this._subs.values()) sub._onConnectionLost();
    this._setState(State.disconnected);
    this._emit('disconnected', { code, reason });
  }

  // The server pings every `ping` seconds; silence for longer than that
  // plus a margin means the connection is dead even if TCP has not noticed.
  _armPingWatch() {
    clearTimeout(this._pingTimer);
    if (!this._pingInterval) return;
    const ws = this._ws;
    this._pingTimer = setTimeout(() => {
      if (this._ws === ws && ws) ws.close(4000, 'no ping'); // reconnects
    }, this._pingInterval * 1000 + this.options.maxServerPingDelay);
  }

  // -------------------------------------------------------------------------
  // Frames, commands and replies

  // Adds a command to `commands` (to be sent in one frame) and returns the
  // promise of its reply.
  _command(method, request, commands) {
    const id = this._nextId++;
    commands.push({ id, [method]: request });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._calls.delete(id);
        reject(new PushError(ERROR_TIMEOUT, `${method}: no reply in time`, true));
      }, this.options.timeout);
      this._calls.set(id, { resolve, reject, timer, method });
    });
  }

  // One command in a frame of its own, once connected.
  _call(method, request) {
    if (this.state !== State.connected || !this._ws) {
      return Promise.reject(new PushError(ERROR_NOT_CONNECTED, 'not connected', true));
    }
    const commands = [];
    const reply = this._command(method, request, commands);
    this._sendFrame(commands);
    return reply;
  }

  _sendFrame(commands) {
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN || commands.length === 0) return;
    this._ws.send(commands.map((c) => JSON.stringify(c)).join('\n'));
  }

  _failCalls(error) {
    const calls = [...this._calls.values()];
    this._calls.clear();
    for (const call of calls) {
      clearTimeout(call.timer);
      call.reject(error);
    }
  }

  _onFrame(text) {
    // Any frame shows the server is there.
    if (this.state === State.connected) this._armPingWatch();
    for (const line of text.trim().split('\n')) {
      if (!line) continue;
      let reply;
      try {
        reply = JSON.parse(line);
      } catch {
        this._emit('error', { type: 'protocol', error: new Error('a reply that is not JSON') });
        continue;
      }
      if (reply === null || typeof reply !== 'object') continue;
      if (reply.id > 0) {
        this._onReply(reply);
      } else if (reply.push) {
        this._onPush(reply.push);
      } else {
        // A ping: answer with a pong (the server asks for one: `pong: true`).
        this._sendFrame([{}]);
      }
    }
  }

  _onReply(reply) {
    const call = this._calls.get(reply.id);
    if (!call) return; // timed out already
    this._calls.delete(reply.id);
    clearTimeout(call.timer);
    if (reply.error) {
      const { code, message, temporary } = reply.error;
      call.reject(new PushError(code, message || 'error', Boolean(temporary)));
    } else {
      call.resolve(reply[call.method] ?? {});
    }
  }

  _onPush(push) {
    const sub = typeof push.channel === 'string' ? this._subs.get(push.channel) : null;
    if (push.disconnect) {
      // Over WebSocket the close frame says it too; nothing more to do.
      return;
    }
    if (!sub) return;
    if (push.pub) sub._onPublication(push.pub);
    else if (push.join) sub._emit('join', push.join.info ?? {});
    else if (push.leave) sub._emit('leave', push.leave.info ?? {});
    else if (push.unsubscribe) sub._onServerUnsubscribe(push.unsubscribe);
  }
}

/**
 * A subscription to one channel. Events:
 * - `state` ({state, previous});
 * - `subscribed` ({recoverable, wasRecovering, recovered, recoveredCount,
 *   epoch, offset}): after every (re)subscribe; `recovered` says whether
 *   the publications missed while away came back (they are emitted as
 *   `publication` events right after), `recoveredCount` how many;
 * - `subscribing` ({code, reason}): waiting for the connection to come back;
 * - `unsubscribed` ({code, reason});
 * - `publication` ({data, info, offset, recovered}): `recovered` marks the
 *   ones that came back with a recovery;
 * - `join`, `leave` (the client info: {user, client, conn_info?});
 * - `error` ({type, error}).
 */
export class Subscription extends Emitter {
  constructor(client, channel, options) {
    super();
    this.client = client;
    this.channel = channel;
    this.options = { recoverable: false, joinLeave: false, ...options };
    this.state = SubState.unsubscribed;
    this.recoverable = false; // what the server said
    this.offset = null; // of the last publication seen (recoverable only)
    this.epoch = null;
    this._resubscribeTimer = null;
    this._attempts = 0;
    this._inFlight = false; // a subscribe command waits for its reply
  }

  /** Subscribes now if connected, else as soon as the client connects. */
  subscribe() {
    if (this.state !== SubState.unsubscribed) return;
    this._setState(SubState.subscribing);
    this._send();
  }

  /** Unsubscribes (the position is forgotten: a later subscribe starts fresh). */
  unsubscribe() {
    if (this.state === SubState.unsubscribed) return;
    clearTimeout(this._resubscribeTimer);
    const wasSubscribed = this.state === SubState.subscribed;
    this.offset = this.epoch = null;
    this._setState(SubState.unsubscribed);
    this._emit('unsubscribed', { code: 0, reason: 'unsubscribe called' });
    if (wasSubscribed) this.client._call('unsubscribe', { channel: this.channel }).catch(() => {});
  }

  /** Publishes to this channel. */
  publish(data) {
    return this.client.publish(this.channel, data);
  }

  presence() {
    return this.client.presence(this.channel);
  }

  presenceStats() {
    return this.client.presenceStats(this.channel);
  }

  history(options = {}) {
    return this.client.history(this.channel, options);
  }

  _setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this._emit('state', { state, previous });
  }

  // The subscribe request: with `recover` when there is a position to
  // recover from.
  _subscribeRequest() {
    const request = { channel: this.channel };
    if (this.options.recoverable) request.recoverable = true;
    if (this.options.joinLeave) request.join_leave = true;
    if (this.offset !== null && this.epoch !== null) {
      request.recover = true;
      request.offset = this.offset;
      request.epoch = this.epoch;
    }
    return request;
  }

  // Sends the subscribe when connected; otherwise the client sends it with
  // its connect.
  _send() {
    if (this.client.state !== State.connected || this._inFlight) return;
    this._inFlight = true;
    const commands = [];
    const reply = this.client._command('subscribe', this._subscribeRequest(), commands);
    this.client._sendFrame(commands);
    reply.then(
      (result) => this._onSubscribed(result),
      (error) => this._onSubscribeError(error),
    );
  }

  _onSubscribed(result) {
    this._inFlight = false;
    if (this.state !== SubState.subscribing) {
      // Unsubscribed while the reply was on its way.
      if (this.state === SubState.unsubscribed) {
        this.client._call('unsubscribe', { channel: this.channel }).catch(() => {});
      }
      return;
    }
    this._attempts = 0;
    this.recoverable = Boolean(result.recoverable);
    const wasRecovering = Boolean(result.was_recovering);
    const recovered = Boolean(result.recovered);
    const publications = Array.isArray(result.publications) ? result.publications : [];
    if (this.recoverable) {
      this.epoch = typeof result.epoch === 'string' ? result.epoch : '';
      this.offset = Number(result.offset) || 0;
    }
    this._setState(SubState.subscribed);
    this._emit('subscribed', {
      recoverable: this.recoverable,
      wasRecovering,
      recovered,
      recoveredCount: recovered ? publications.length : 0,
      epoch: this.epoch,
      offset: this.offset,
    });
    for (const pub of publications) this._onPublication(pub, true);
  }

  _onSubscribeError(error) {
    this._inFlight = false;
    if (this.state !== SubState.subscribing) return;
    if (error.code === ERROR_CLOSED) return; // the client resubscribes on reconnect
    this._emit('error', { type: 'subscribe', error });
    if (error.code < 100 || error.temporary) {
      // Try again later, backing off.
      const delay = backoff(this._attempts, 500, 20000);
      this._attempts += 1;
      clearTimeout(this._resubscribeTimer);
      this._resubscribeTimer = setTimeout(() => this._send(), delay);
      return;
    }
    this._setState(SubState.unsubscribed);
    this._emit('unsubscribed', { code: error.code, reason: error.message });
  }

  _onServerUnsubscribe({ code = 2000, reason = 'server unsubscribe' }) {
    if (code >= 2500) {
      // "Insufficient state" and the like: subscribe again.
      this._setState(SubState.subscribing);
      this._send();
      return;
    }
    this.offset = this.epoch = null;
    this._setState(SubState.unsubscribed);
    this._emit('unsubscribed', { code, reason });
  }

  _onConnectionLost() {
    clearTimeout(this._resubscribeTimer);
    this._inFlight = false;
    if (this.state !== SubState.subscribed) return;
    this._setState(SubState.subscribing);
    const close = this.client.lastClose ?? { code: 0, reason: '' };
    this._emit('subscribing', close);
  }

  _onPublication(pub, recovered = false) {
    if (this.recoverable && typeof pub.offset === 'number') this.offset = pub.offset;
    this._emit('publication', { data: pub.data, info: pub.info, offset: pub.offset, recovered });
  }
}
