// The Duplex demo page: four panels on the push server's channels, over one
// WebSocket (push_client.js speaks Centrifugo's client protocol):
//
//   chat:<room>     rooms; the page publishes {type, nick, text, time} itself
//   ticker:prices   prices the server publishes several times a second
//   comments:live   generated comments, and what visitors post (POST /demo/comment)
//   answers:<id>    an answer streamed word by word after POST /demo/ask
//
// Chat, ticker and answers are recoverable: after a drop the page
// resubscribes from the last offset it saw and says how many publications
// came back. Plain browser JavaScript, no build step. Everything that comes
// from the server is put on the page as text (textContent), never as markup.

import { PushClient, State, SubState } from './push_client.js';

const byId = (id) => document.querySelector(`[data-testid="${id}"]`);

// ---------------------------------------------------------------------------
// Small helpers

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clockTime(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function asText(value) {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function randomId(length = 12) {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    // Not JSON: the status says enough.
  }
  if (!response.ok) throw new Error(answer.error || `${path} answered ${response.status}`);
  return answer;
}

const CLOSE_NAMES = {
  1000: 'normal closure',
  1001: 'going away',
  1006: 'connection lost',
  1009: 'message too big',
  1011: 'server error',
  1012: 'service restart',
  3000: 'transport error',
  3001: 'shutdown',
  3004: 'slow',
  3005: 'expired',
  3011: 'force reconnect',
  3012: 'no pong',
  3500: 'invalid token',
  3501: 'bad request',
  3502: 'stale',
  3503: 'force disconnect',
  4000: 'no ping',
};

// ---------------------------------------------------------------------------
// Errors: shown in a bar under the header, newest first, a few at most.

const errorArea = byId('error-area');
const MAX_ERRORS = 4;
const ERROR_LIFETIME_MS = 30000;

function showError(text) {
  // The same error again only counts up on the newest line.
  const newest = errorArea.firstElementChild;
  if (newest && newest.dataset.text === text) {
    const repeats = Number(newest.dataset.repeats) + 1;
    newest.dataset.repeats = String(repeats);
    newest.querySelector('.error-time').textContent = clockTime(Date.now());
    newest.querySelector('.error-repeats').textContent = `\u00d7${repeats}`;
    newest.querySelector('.error-repeats').hidden = false;
    clearTimeout(newest.expiry);
    newest.expiry = setTimeout(() => removeError(newest), ERROR_LIFETIME_MS);
    return;
  }
  const item = el('div', 'error');
  item.dataset.testid = 'error';
  item.dataset.text = text;
  item.dataset.repeats = '1';
  const repeats = el('span', 'error-repeats');
  repeats.hidden = true;
  item.append(el('span', 'error-time', clockTime(Date.now())), el('span', 'error-text', text), repeats);
  const close = el('button', 'error-close', '\u00d7');
  close.type = 'button';
  close.title = 'Dismiss';
  close.setAttribute('aria-label', 'Dismiss');
  close.addEventListener('click', () => removeError(item));
  item.append(close);
  errorArea.prepend(item);
  while (errorArea.children.length > MAX_ERRORS) errorArea.lastElementChild.remove();
  errorArea.hidden = false;
  item.expiry = setTimeout(() => removeError(item), ERROR_LIFETIME_MS);
}

function removeError(item) {
  item.remove();
  errorArea.hidden = errorArea.children.length === 0;
}

// ---------------------------------------------------------------------------
// The connection: one client for every panel, its state in the header.

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const client = new PushClient(`${scheme}//${location.host}/connection/websocket`, {
  minReconnectDelay: 500,
  maxReconnectDelay: 10000,
});
// For tests and the curious: the client, from the console.
window.duplexPush = client;

const connUi = {
  box: byId('push-conn'),
  state: byId('push-state'),
  close: byId('push-close'),
  retry: byId('push-retry'),
};
let attempts = 0; // reconnect attempts since the last connect

function connectionLabel() {
  if (client.state === State.connected) return 'connected';
  if (client.state === State.disconnected) return 'disconnected';
  return client.lastClose ? 'reconnecting' : 'connecting';
}

function retryText() {
  const seconds = Math.max(0, (client.reconnectAt - Date.now()) / 1000);
  return `reconnecting in ${seconds.toFixed(1)} s${attempts > 1 ? ` (attempt ${attempts})` : ''}`;
}

function renderConnection() {
  const label = connectionLabel();
  connUi.box.dataset.state = label;
  connUi.state.textContent = label;
  const last = client.lastClose;
  if (last && label !== 'connected') {
    const known = CLOSE_NAMES[last.code];
    const name = known ? ` ${known}` : '';
    const reason = last.reason && last.reason !== known ? ` \u201c${last.reason}\u201d` : '';
    connUi.close.textContent = `closed ${last.code}${name}${reason}`;
    connUi.close.hidden = false;
    connUi.box.dataset.closeCode = String(last.code);
  } else {
    connUi.close.hidden = true;
  }
  if (label === 'reconnecting' && client.reconnectAt > Date.now()) {
    connUi.retry.textContent = retryText();
    connUi.retry.hidden = false;
  } else if (label === 'reconnecting') {
    connUi.retry.textContent = `attempt ${attempts}`;
    connUi.retry.hidden = false;
  } else {
    connUi.retry.hidden = true;
  }
  for (const panel of panels) panel.render();
}

client.on('state', renderConnection);
client.on('connecting', ({ code }) => {
  attempts += 1;
  if (code === 1009) showError('The server refused a message as too big.');
});
client.on('connected', () => {
  attempts = 0;
  renderConnection();
});
client.on('disconnected', ({ code, reason }) => {
  if (code) showError(`Disconnected for good: ${code} ${reason || CLOSE_NAMES[code] || ''}`.trim());
});
client.on('error', ({ type, error }) => {
  if (type === 'connect') showError(`connect: ${error.message} (${error.code})`);
});
setInterval(() => {
  if (client.state === State.connecting && client.lastClose) renderConnection();
}, 100);

// A panel's subscription badge: the channel, the subscription's state, and
// while the connection is away, when it comes back.
class Panel {
  constructor(name) {
    this.box = byId(`${name}-sub`);
    this.state = byId(`${name}-sub-state`);
    this.sub = null;
    this.idleText = this.state.textContent;
  }

  render() {
    const sub = this.sub;
    let state = 'unsubscribed';
    let text = this.idleText;
    if (sub && sub.state === SubState.subscribed) {
      state = 'subscribed';
      text = 'subscribed';
    } else if (sub && sub.state === SubState.subscribing) {
      state = 'subscribing';
      if (client.state === State.connecting && client.lastClose && client.reconnectAt > Date.now()) {
        text = `resubscribing in ${Math.max(0, (client.reconnectAt - Date.now()) / 1000).toFixed(1)} s`;
      } else {
        text = 'subscribing';
      }
    }
    this.box.dataset.state = state;
    this.state.textContent = text;
  }

  watch(sub) {
    this.sub = sub;
    if (sub) sub.on('state', () => this.render());
    this.render();
  }
}

const chatPanel = new Panel('chat');
const tickerPanel = new Panel('ticker');
const commentsPanel = new Panel('comments');
const answerPanel = new Panel('answer');
const panels = [chatPanel, tickerPanel, commentsPanel, answerPanel];

// The line under a panel's title after a resubscription.
function showRecovery(node, ctx, what) {
  if (!ctx.wasRecovering) return;
  node.hidden = false;
  node.dataset.at = String(Date.now());
  if (ctx.recovered) {
    node.dataset.recovered = String(ctx.recoveredCount);
    node.className = 'recovery ok';
    node.textContent = ctx.recoveredCount === 0
      ? `Back online: nothing was missed (${clockTime(Date.now())})`
      : `Back online: recovered ${plural(ctx.recoveredCount, `missed ${what}`, `missed ${what}s`)} (${clockTime(Date.now())})`;
  } else {
    node.dataset.recovered = 'none';
    node.className = 'recovery lost';
    node.textContent = `Back online, but could not recover: history gone (the server restarted or too much was missed) (${clockTime(Date.now())})`;
  }
}

// ---------------------------------------------------------------------------
// Chat: rooms are channels chat:<room>, with history, recovery, presence and
// join/leave. Nicknames are not part of the connection (it is anonymous), so
// each page announces itself in the room ({type: "join"} the first time,
// {type: "here"} after a reconnect, when its client id has changed); members
// are the room's presence, named from those announcements.

const chatUi = {
  joinForm: byId('join-form'),
  nick: byId('nick-input'),
  room: byId('room-input'),
  join: byId('join-button'),
  leave: byId('leave-button'),
  rooms: byId('rooms-list'),
  membersRoom: byId('members-room'),
  members: byId('members-list'),
  tabs: byId('my-rooms'),
  messages: byId('message-list'),
  messagesEmpty: byId('messages-empty'),
  sayForm: byId('say-form'),
  text: byId('message-input'),
  send: byId('send-button'),
  channel: byId('chat-sub-channel'),
  recovery: byId('chat-recovery'),
};

const SUGGESTED_ROOMS = ['lobby', 'rust', 'cpp', 'random'];
const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_MESSAGES_PER_ROOM = 300;
const HISTORY_ON_JOIN = 50;
const COUNTS_REFRESH_MS = 5000;

const chat = {
  mine: new Map(), // room -> Room
  current: null,
  counts: new Map(), // room -> clients online (presence_stats)
};

class Room {
  constructor(room, nick) {
    this.room = room;
    this.nick = nick;
    this.members = new Map(); // client id -> nick ('' while unknown)
    this.nicks = new Map(); // client id -> nick, from announcements and messages
    this.log = []; // {kind: 'message'|'notice', ...}
    this.unread = 0;
    this.announced = false;
    this.recovery = null; // the last recovery's ctx
    this.sub = client.newSubscription(`chat:${room}`, { joinLeave: true });
    this.sub.on('subscribed', (ctx) => this.onSubscribed(ctx));
    this.sub.on('subscribing', () => {
      this.members.clear();
      if (chat.current === this.room) renderChat();
    });
    this.sub.on('publication', (pub) => this.onPublication(pub));
    this.sub.on('join', (info) => this.onJoin(info));
    this.sub.on('leave', (info) => this.onLeave(info));
    this.sub.on('unsubscribed', ({ code, reason }) => {
      if (code) {
        showError(`chat:${room}: ${reason} (${code})`);
        dropRoom(room);
        renderChat();
      }
    });
    this.sub.on('state', () => {
      if (chat.current === this.room) renderChat();
      else renderTabs();
    });
  }

  async onSubscribed(ctx) {
    if (ctx.wasRecovering) {
      this.recovery = ctx;
      if (chat.current === this.room) showRecovery(chatUi.recovery, ctx, 'message');
      this.addNotice(ctx.recovered
        ? `Reconnected: recovered ${plural(ctx.recoveredCount, 'missed message', 'missed messages')}.`
        : 'Reconnected, but the history is gone: messages sent meanwhile are lost.');
    }
    const subscribedAt = ctx.offset;
    const first = !this.announced;
    try {
      // Who is here (client ids), and the recent messages, which name the
      // clients that announced themselves: shown the first time, read
      // again later when someone here is not known by name.
      const presence = await this.sub.presence();
      const ids = Object.keys(presence.presence ?? {});
      const unknown = ids.some((id) => id !== client.clientId && !this.nicks.has(id));
      if ((first || unknown) && subscribedAt > 0) {
        const history = await this.sub.history({ limit: HISTORY_ON_JOIN, reverse: true });
        const earlier = history.publications.filter((p) => p.offset <= subscribedAt).reverse();
        for (const pub of earlier) this.learn(pub);
        const items = first ? earlier.map((pub) => this.itemFor(pub)).filter(Boolean) : [];
        if (items.length > 0) {
          this.log.unshift(...items, { kind: 'notice', text: `${plural(items.length, 'earlier message', 'earlier messages')} from the history` });
        }
      }
      this.members.clear();
      for (const id of ids) {
        this.members.set(id, id === client.clientId ? this.nick : (this.nicks.get(id) ?? ''));
      }
      this.members.set(client.clientId, this.nick);
      // Tell the room who this client is.
      await this.sub.publish({ type: first ? 'join' : 'here', nick: this.nick, time: Date.now() });
      this.announced = true;
    } catch (error) {
      showError(`chat:${this.room}: ${error.message}`);
    }
    if (chat.current === this.room) {
      renderLog();
      renderChat();
    } else {
      renderTabs();
    }
    refreshCounts();
  }

  learn(pub) {
    const id = pub.info?.client;
    const nick = asText(pub.data?.nick);
    if (id && nick) {
      this.nicks.set(id, nick);
      if (this.members.has(id)) this.members.set(id, nick);
    }
  }

  // A publication as a log item (announcements of reconnects are not shown).
  itemFor(pub) {
    const d = pub.data ?? {};
    const nick = asText(d.nick) || 'someone';
    const time = Number(d.time) || Date.now();
    const type = asText(d.type) || 'message';
    if (type === 'join') return { kind: 'notice', text: `${nick} joined.` };
    if (type !== 'message') return null;
    return { kind: 'message', nick, text: asText(d.text), time, own: nick === this.nick, recovered: pub.recovered };
  }

  onPublication(pub) {
    this.learn(pub);
    const item = this.itemFor(pub);
    if (item) this.add(item);
    if (chat.current === this.room) renderMembers();
  }

  onJoin(info) {
    if (!info.client || this.members.has(info.client)) return;
    const self = info.client === client.clientId;
    this.members.set(info.client, self ? this.nick : (this.nicks.get(info.client) ?? ''));
    setCount(this.room, this.members.size);
    if (chat.current === this.room) renderChat();
  }

  onLeave(info) {
    if (!info.client) return;
    const nick = this.members.get(info.client) || this.nicks.get(info.client);
    this.members.delete(info.client);
    setCount(this.room, this.members.size);
    // A page that reconnects leaves under its old id and comes back under a
    // new one: only say "left" when that nickname is gone.
    if (nick && ![...this.members.values()].includes(nick)) {
      setTimeout(() => {
        if (![...this.members.values()].includes(nick)) this.addNotice(`${nick} left.`);
      }, 5000);
    }
    if (chat.current === this.room) renderChat();
  }

  addNotice(text) {
    this.add({ kind: 'notice', text });
  }

  add(item) {
    this.log.push(item);
    if (this.log.length > MAX_MESSAGES_PER_ROOM) this.log.splice(0, this.log.length - MAX_MESSAGES_PER_ROOM);
    if (chat.current === this.room) {
      appendLogItem(item, true);
    } else if (item.kind === 'message') {
      this.unread += 1;
      renderTabs();
    }
  }
}

function setCount(room, count) {
  chat.counts.set(room, count);
  renderRooms();
}

// How many are in each room the page lists (presence_stats needs no
// subscription).
async function refreshCounts() {
  if (client.state !== State.connected) return;
  const rooms = new Set([...SUGGESTED_ROOMS, ...chat.mine.keys()]);
  await Promise.all([...rooms].map(async (room) => {
    try {
      const stats = await client.presenceStats(`chat:${room}`);
      chat.counts.set(room, Number(stats.num_clients) || 0);
    } catch {
      // The next round asks again.
    }
  }));
  renderRooms();
}
client.on('connected', refreshCounts);
setInterval(() => {
  if (document.visibilityState === 'visible') refreshCounts();
}, COUNTS_REFRESH_MS);

function dropRoom(room) {
  const entry = chat.mine.get(room);
  if (!entry) return;
  client.removeSubscription(entry.sub);
  chat.mine.delete(room);
  if (chat.current === room) {
    const next = chat.mine.keys().next();
    selectRoom(next.done ? null : next.value);
  }
}

function selectRoom(room) {
  chat.current = room;
  const entry = room === null ? null : chat.mine.get(room);
  if (entry) entry.unread = 0;
  chatPanel.watch(entry ? entry.sub : null);
  chatUi.channel.textContent = entry ? `chat:${room}` : 'chat:\u2026';
  if (entry && entry.recovery) {
    showRecovery(chatUi.recovery, entry.recovery, 'message');
  } else {
    chatUi.recovery.hidden = true;
  }
  renderLog();
  renderChat();
}

chatUi.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const nick = chatUi.nick.value.trim();
  const room = chatUi.room.value.trim();
  if (!nick) {
    showError('Choose a nickname first.');
    chatUi.nick.focus();
    return;
  }
  if (!ROOM_PATTERN.test(room)) {
    showError('A room name is 1 to 32 letters, digits, - or _.');
    chatUi.room.focus();
    return;
  }
  joinRoom(room, nick);
});

function joinRoom(room, nick) {
  try {
    localStorage.setItem('duplex.nick', nick);
  } catch {
    // Storage may be disabled; the nickname is only a convenience.
  }
  if (chat.mine.has(room)) {
    selectRoom(room);
    return;
  }
  const entry = new Room(room, nick);
  chat.mine.set(room, entry);
  entry.sub.subscribe();
  selectRoom(room);
}

chatUi.leave.addEventListener('click', () => {
  if (chat.current === null) return;
  dropRoom(chat.current);
  renderChat();
  refreshCounts();
});

chatUi.sayForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = chatUi.text.value;
  const entry = chat.current === null ? null : chat.mine.get(chat.current);
  if (!text.trim() || !entry) return;
  if (entry.sub.state !== SubState.subscribed) {
    showError(`Not in ${entry.room} yet.`);
    return;
  }
  chatUi.text.value = '';
  try {
    await entry.sub.publish({ type: 'message', nick: entry.nick, text, time: Date.now() });
  } catch (error) {
    chatUi.text.value = text;
    showError(`The message was not sent: ${error.message}`);
  }
});

function renderChat() {
  renderRooms();
  renderTabs();
  renderMembers();
  const entry = chat.current === null ? null : chat.mine.get(chat.current);
  const canSay = entry !== null && entry !== undefined && entry.sub.state === SubState.subscribed;
  chatUi.text.disabled = !canSay;
  chatUi.send.disabled = !canSay;
  chatUi.leave.disabled = chat.current === null;
  chatUi.messagesEmpty.hidden = chat.current !== null;
}

function renderRooms() {
  const rooms = [...new Set([...SUGGESTED_ROOMS, ...chat.mine.keys()])].sort((a, b) => a.localeCompare(b));
  chatUi.rooms.replaceChildren(
    ...rooms.map((room) => {
      const li = el('li');
      li.dataset.testid = 'room-item';
      li.dataset.room = room;
      const button = el('button', 'room-button');
      button.type = 'button';
      if (chat.mine.has(room)) button.classList.add('in');
      if (room === chat.current) button.classList.add('current');
      const count = chat.counts.get(room) ?? 0;
      button.append(el('span', 'room-name', room), el('span', 'count', String(count)));
      button.title = chat.mine.has(room) ? `Show ${room}` : `Join ${room}`;
      button.addEventListener('click', () => {
        if (chat.mine.has(room)) {
          selectRoom(room);
          return;
        }
        chatUi.room.value = room;
        const nick = chatUi.nick.value.trim();
        if (nick) joinRoom(room, nick);
        else chatUi.nick.focus();
      });
      li.append(button);
      return li;
    }),
  );
}

function renderTabs() {
  chatUi.tabs.replaceChildren(
    ...[...chat.mine.values()].map((entry) => {
      const tab = el('button', 'tab');
      tab.type = 'button';
      tab.dataset.testid = 'room-tab';
      tab.dataset.room = entry.room;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-selected', String(entry.room === chat.current));
      if (entry.sub.state !== SubState.subscribed) tab.classList.add('pending');
      tab.append(el('span', 'tab-name', entry.room));
      if (entry.unread > 0) tab.append(el('span', 'badge', String(entry.unread)));
      tab.addEventListener('click', () => selectRoom(entry.room));
      return tab;
    }),
  );
  chatUi.tabs.hidden = chat.mine.size === 0;
}

function renderMembers() {
  const entry = chat.current === null ? null : chat.mine.get(chat.current);
  chatUi.membersRoom.textContent = entry ? chat.current : 'no room';
  if (!entry) {
    chatUi.members.replaceChildren();
    return;
  }
  const named = [...new Set([...entry.members.values()].filter(Boolean))].sort((a, b) => a.localeCompare(b));
  const unnamed = [...entry.members.values()].filter((n) => !n).length;
  const items = named.map((nick) => {
    const li = el('li', 'member');
    li.dataset.testid = 'member';
    li.dataset.nick = nick;
    const name = el('span', 'member-nick', nick);
    name.dataset.testid = 'member-nick';
    li.append(name);
    if (nick === entry.nick) li.append(el('span', 'you', 'you'));
    return li;
  });
  if (unnamed > 0) items.push(el('li', 'member muted', `${named.length > 0 ? '+' : ''}${plural(unnamed, 'visitor', 'visitors')} not named yet`));
  if (entry.sub.state !== SubState.subscribed) {
    items.push(el('li', 'member muted', client.state === State.connected ? 'joining\u2026' : 'offline'));
  }
  chatUi.members.replaceChildren(...items);
}

function renderLog() {
  chatUi.messages.replaceChildren();
  const entry = chat.current === null ? null : chat.mine.get(chat.current);
  if (!entry) return;
  for (const item of entry.log) appendLogItem(item, false);
  chatUi.messages.scrollTop = chatUi.messages.scrollHeight;
}

function appendLogItem(item, follow) {
  const list = chatUi.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  let li;
  if (item.kind === 'message') {
    li = el('li', item.own ? 'msg own' : 'msg');
    if (item.recovered) li.classList.add('recovered');
    li.dataset.testid = 'chat-message';
    li.dataset.room = chat.current;
    const head = el('div', 'msg-head');
    const nick = el('span', 'nick', item.nick);
    nick.dataset.testid = 'chat-nick';
    const time = el('time', 'time', clockTime(item.time));
    time.dataset.testid = 'chat-time';
    time.dateTime = new Date(item.time).toISOString();
    head.append(nick, time);
    if (item.recovered) head.append(el('span', 'tag', 'recovered'));
    const text = el('div', 'text', item.text);
    text.dataset.testid = 'chat-text';
    li.append(head, text);
  } else {
    li = el('li', 'notice', item.text);
    li.dataset.testid = 'chat-notice';
  }
  list.append(li);
  while (list.children.length > MAX_MESSAGES_PER_ROOM) list.firstElementChild.remove();
  if (!follow || atBottom) list.scrollTop = list.scrollHeight;
}

// ---------------------------------------------------------------------------
// Ticker: ticker:prices, recoverable. After a short drop the missed ticks
// come back, so "Missed" stays 0; after a restart the sequence starts over.

const tickerUi = {
  rate: byId('ticker-rate'),
  rows: byId('ticker-rows'),
  empty: byId('ticker-empty'),
  seq: byId('ticker-seq'),
  count: byId('ticker-count'),
  missed: byId('ticker-missed'),
  time: byId('ticker-time'),
  table: byId('ticker-table'),
  recovery: byId('ticker-recovery'),
};

const SPARK_POINTS = 40;
const ticker = {
  arrivals: [], // performance.now() of the ticks in the last second
  count: 0,
  missed: 0,
  lastSeq: null,
  symbols: new Map(), // symbol -> {row, price, change, line, history, last}
};

const tickerSub = client.newSubscription('ticker:prices');
tickerPanel.watch(tickerSub);
tickerSub.on('subscribed', (ctx) => {
  tickerUi.table.classList.remove('stale');
  if (ctx.wasRecovering && !ctx.recovered) ticker.lastSeq = null; // a new stream
  showRecovery(tickerUi.recovery, ctx, 'tick');
});
tickerSub.on('subscribing', () => tickerUi.table.classList.add('stale'));
tickerSub.on('publication', (pub) => onTick(pub.data ?? {}));

function onTick(m) {
  ticker.arrivals.push(performance.now());
  ticker.count += 1;
  const seq = Number(m.seq);
  if (Number.isFinite(seq)) {
    if (ticker.lastSeq !== null && seq > ticker.lastSeq + 1) ticker.missed += seq - ticker.lastSeq - 1;
    ticker.lastSeq = seq;
    tickerUi.seq.textContent = String(seq);
  }
  tickerUi.count.textContent = String(ticker.count);
  tickerUi.missed.textContent = String(ticker.missed);
  if (m.time !== undefined) tickerUi.time.textContent = clockTime(Number(m.time));
  if (m.prices && typeof m.prices === 'object') {
    for (const [symbol, value] of Object.entries(m.prices)) updatePrice(symbol, value);
  }
  tickerUi.empty.hidden = ticker.symbols.size > 0;
  renderRate();
}

function formatPrice(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(2) : asText(value);
}

function updatePrice(symbol, value) {
  let s = ticker.symbols.get(symbol);
  if (!s) {
    const row = el('tr');
    row.dataset.testid = 'ticker-row';
    row.dataset.symbol = symbol;
    const name = el('th', 'symbol', symbol);
    name.scope = 'row';
    const price = el('td', 'price');
    price.dataset.testid = 'ticker-price';
    price.dataset.symbol = symbol;
    const change = el('td', 'change');
    change.dataset.testid = 'ticker-change';
    const sparkCell = el('td', 'spark-col');
    const spark = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    spark.setAttribute('viewBox', `0 0 ${SPARK_POINTS - 1} 20`);
    spark.setAttribute('preserveAspectRatio', 'none');
    spark.setAttribute('class', 'spark');
    spark.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    spark.append(line);
    sparkCell.append(spark);
    row.append(name, price, change, sparkCell);
    tickerUi.rows.append(row);
    s = { row, price, change, line, history: [], last: null };
    ticker.symbols.set(symbol, s);
  }
  s.price.textContent = formatPrice(value);
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (s.last !== null) {
      const diff = value - s.last;
      s.change.textContent = `${diff > 0 ? '\u25b2' : diff < 0 ? '\u25bc' : '\u2022'} ${Math.abs(diff).toFixed(2)}`;
      s.row.classList.toggle('up', diff > 0);
      s.row.classList.toggle('down', diff < 0);
      if (diff !== 0) {
        s.price.classList.remove('flash');
        void s.price.offsetWidth; // restart the animation
        s.price.classList.add('flash');
      }
    }
    s.last = value;
    s.history.push(value);
    if (s.history.length > SPARK_POINTS) s.history.shift();
    drawSpark(s);
  }
}

function drawSpark(s) {
  const h = s.history;
  const lo = Math.min(...h);
  const hi = Math.max(...h);
  const span = hi - lo || 1;
  const offset = SPARK_POINTS - h.length;
  const points = h.map((v, i) => `${offset + i},${(19 - ((v - lo) / span) * 18).toFixed(2)}`);
  s.line.setAttribute('points', points.join(' '));
}

function renderRate() {
  const now = performance.now();
  while (ticker.arrivals.length > 0 && now - ticker.arrivals[0] > 1000) ticker.arrivals.shift();
  tickerUi.rate.textContent = String(ticker.arrivals.length);
}

setInterval(renderRate, 250);

// ---------------------------------------------------------------------------
// Live comments: comments:live. Each comment drifts across the panel in a
// lane of its own and is removed when it has crossed; at most MAX_COMMENTS
// are on the page at once.

const commentsUi = {
  stream: byId('comments-stream'),
  form: byId('comment-form'),
  input: byId('comment-input'),
  send: byId('comment-send'),
  count: byId('comments-count'),
};
const MAX_COMMENTS = 30;
const LANES = 6;
const DRIFT_PX_PER_S = 140; // one speed for all: a bubble never catches up with the one ahead
const LANE_GAP_PX = 24;
const laneFreeAt = new Array(LANES).fill(0); // performance.now() when a lane's entrance is clear
let commentCount = 0;

const commentsSub = client.newSubscription('comments:live');
commentsPanel.watch(commentsSub);
commentsSub.on('publication', (pub) => addComment(pub.data ?? {}));

function addComment(c) {
  commentCount += 1;
  commentsUi.count.textContent = String(commentCount);
  const bubble = el('div', c.kind === 'visitor' ? 'comment visitor' : 'comment');
  bubble.dataset.testid = 'comment';
  bubble.dataset.nick = asText(c.nick);
  const nick = el('span', 'comment-nick', asText(c.nick));
  const text = el('span', 'comment-text', asText(c.text));
  text.dataset.testid = 'comment-text';
  bubble.append(nick, text);
  commentsUi.stream.append(bubble);
  while (commentsUi.stream.children.length > MAX_COMMENTS) commentsUi.stream.firstElementChild.remove();
  // The lane whose entrance clears first; the bubble waits off the right
  // edge until it does, then crosses at the common speed and is removed.
  const now = performance.now();
  let lane = 0;
  for (let i = 1; i < LANES; i += 1) if (laneFreeAt[i] < laneFreeAt[lane]) lane = i;
  const width = bubble.offsetWidth;
  const distance = commentsUi.stream.clientWidth + width;
  const delay = Math.max(0, laneFreeAt[lane] - now);
  laneFreeAt[lane] = now + delay + ((width + LANE_GAP_PX) / DRIFT_PX_PER_S) * 1000;
  bubble.style.setProperty('--lane', String(lane));
  bubble.style.setProperty('--distance', `${distance}px`);
  bubble.style.animationDuration = `${(distance / DRIFT_PX_PER_S).toFixed(2)}s`;
  bubble.style.animationDelay = `${Math.round(delay)}ms`;
  bubble.addEventListener('animationend', () => bubble.remove());
}

commentsUi.form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = commentsUi.input.value.trim();
  if (!text) return;
  const nick = chatUi.nick.value.trim() || 'guest';
  commentsUi.send.disabled = true;
  try {
    await postJson('/demo/comment', { nick, text });
    commentsUi.input.value = '';
  } catch (error) {
    showError(`Comment not posted: ${error.message}`);
  } finally {
    commentsUi.send.disabled = false;
  }
});

// ---------------------------------------------------------------------------
// Streamed answer: subscribe to a fresh answers:<id>, then POST /demo/ask
// with that channel; the server publishes the answer word by word
// ({token, index, done}) and the page shows it as it comes. The channel is
// recoverable: words missed during a drop come back.

const answerUi = {
  form: byId('ask-form'),
  input: byId('ask-input'),
  button: byId('ask-button'),
  question: byId('answer-question'),
  box: byId('answer-box'),
  text: byId('answer-text'),
  empty: byId('answer-empty'),
  progress: byId('answer-progress'),
  channel: byId('answer-channel'),
};

let answer = null; // {sub, tokens: [], done, total, question}

function renderAnswer() {
  if (!answer) return;
  const received = answer.tokens.filter((t) => t !== undefined).length;
  // Words in order, up to the first gap (a gap is filled by recovery).
  let text = '';
  for (const token of answer.tokens) {
    if (token === undefined) break;
    text += token;
  }
  answerUi.text.textContent = text;
  answerUi.text.dataset.tokens = String(received);
  answerUi.empty.hidden = true;
  const state = answer.failed ? 'failed' : answer.done ? 'done' : received > 0 ? 'streaming' : 'waiting';
  answerUi.box.dataset.state = state;
  answerUi.progress.textContent = answer.failed
    ? answer.failed
    : state === 'done'
      ? `${plural(received, 'word', 'words')} in ${plural(received, 'publication', 'publications')}${answer.recovered ? `, ${answer.recovered} of them recovered after a drop` : ''}.`
      : state === 'streaming'
        ? `Streaming: ${plural(received, 'word', 'words')} so far\u2026`
        : 'Waiting for the first word\u2026';
}

function endAnswer() {
  if (!answer) return;
  client.removeSubscription(answer.sub);
}

answerUi.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const question = answerUi.input.value.trim();
  if (!question) return;
  endAnswer();
  const channel = `answers:${randomId()}`;
  const sub = client.newSubscription(channel);
  const current = { sub, channel, tokens: [], done: false, question, recovered: 0, asked: false, failed: '' };
  answer = current;
  answerPanel.idleText = 'idle';
  answerPanel.watch(sub);
  answerUi.channel.textContent = channel;
  answerUi.question.textContent = question;
  answerUi.question.hidden = false;
  answerUi.input.value = '';
  sub.on('subscribed', async (ctx) => {
    if (ctx.recovered) current.recovered += ctx.recoveredCount;
    if (current.asked) return;
    current.asked = true;
    try {
      await postJson('/demo/ask', { channel, question });
    } catch (error) {
      current.failed = `Not answered: ${error.message}`;
      if (answer === current) renderAnswer();
    }
  });
  sub.on('publication', (pub) => {
    const d = pub.data ?? {};
    const index = Number(d.index);
    if (!Number.isInteger(index) || index < 0 || index > 10000) return;
    current.tokens[index] = asText(d.token);
    if (d.done) current.done = true;
    if (answer !== current) return;
    renderAnswer();
    if (current.done && current.tokens.every((t) => t !== undefined)) {
      answerPanel.idleText = 'answered';
      client.removeSubscription(sub); // the channel is done with
      answerPanel.render();
    }
  });
  sub.subscribe();
  renderAnswer();
});

// ---------------------------------------------------------------------------
// Start.

try {
  const saved = localStorage.getItem('duplex.nick');
  if (saved && !chatUi.nick.value) chatUi.nick.value = saved;
} catch {
  // No storage: no remembered nickname.
}
renderChat();
renderConnection();
tickerSub.subscribe();
commentsSub.subscribe();
client.connect();
window.addEventListener('pagehide', (event) => {
  if (!event.persisted) client.disconnect();
});
window.addEventListener('pageshow', (event) => {
  if (event.persisted) client.connect();
});
