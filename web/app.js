// The Duplex demo page: a chat with rooms over /chat and a price ticker over
// /ticker (docs/demo-protocol.md). Plain browser JavaScript, no build step.
// Everything that comes from the server is put on the page as text
// (textContent), never as markup.
'use strict';

(() => {
  const byId = (id) => document.querySelector(`[data-testid="${id}"]`);

  // ---------------------------------------------------------------------
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

  function socketUrl(path) {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}${path}`;
  }

  const CLOSE_NAMES = {
    1000: 'normal closure',
    1001: 'going away',
    1002: 'protocol error',
    1003: 'unsupported data',
    1005: 'no status',
    1006: 'connection lost',
    1007: 'invalid data',
    1008: 'policy violation',
    1009: 'message too big',
    1010: 'extension required',
    1011: 'server error',
    1012: 'service restart',
    1013: 'try again later',
    1015: 'TLS failure',
  };

  // ---------------------------------------------------------------------
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

  // ---------------------------------------------------------------------
  // A WebSocket that comes back: exponential backoff with jitter (0.5 s
  // doubling up to 10 s, reset once a connection opens), a bound on how long
  // an attempt may stay in CONNECTING, and its state on the page.

  const BACKOFF_FIRST_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const CONNECT_TIMEOUT_MS = 10000;

  class Link {
    constructor(path, name, handlers) {
      this.path = path;
      this.handlers = handlers;
      this.ws = null;
      this.failures = 0; // attempts since the last open
      this.retryAt = 0;
      this.retryTimer = null;
      this.countdown = null;
      this.connectTimer = null;
      this.stopped = false;
      this.lastClose = null; // how the last open connection ended
      this.ui = {
        box: byId(`${name}-conn`),
        state: byId(`${name}-state`),
        close: byId(`${name}-close`),
        retry: byId(`${name}-retry`),
      };
    }

    get isOpen() {
      return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
    }

    send(message) {
      if (!this.isOpen) return false;
      this.ws.send(JSON.stringify(message));
      return true;
    }

    start() {
      this.stopped = false;
      this.connect();
    }

    stop() {
      this.stopped = true;
      this.clearTimers();
      if (this.ws) this.ws.close(1000, 'page closed');
    }

    clearTimers() {
      clearTimeout(this.retryTimer);
      clearInterval(this.countdown);
      clearTimeout(this.connectTimer);
      this.retryTimer = this.countdown = this.connectTimer = null;
    }

    connect() {
      this.clearTimers();
      this.render('connecting');
      let ws;
      try {
        ws = new WebSocket(socketUrl(this.path));
      } catch (e) {
        showError(`${this.path}: cannot connect: ${e.message}`);
        this.scheduleRetry();
        return;
      }
      this.ws = ws;
      let opened = false;
      this.connectTimer = setTimeout(() => {
        if (ws.readyState === WebSocket.CONNECTING) ws.close();
      }, CONNECT_TIMEOUT_MS);
      ws.addEventListener('open', () => {
        if (this.ws !== ws) return;
        opened = true;
        clearTimeout(this.connectTimer);
        this.failures = 0;
        this.render('open');
        this.handlers.open();
      });
      ws.addEventListener('message', (event) => {
        if (this.ws !== ws) return;
        let message;
        try {
          message = JSON.parse(typeof event.data === 'string' ? event.data : '');
        } catch {
          showError(`${this.path}: the server sent something that is not JSON`);
          return;
        }
        if (message === null || typeof message !== 'object' || Array.isArray(message)) {
          showError(`${this.path}: the server sent something that is not a JSON object`);
          return;
        }
        this.handlers.message(message);
      });
      ws.addEventListener('close', (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        clearTimeout(this.connectTimer);
        if (opened) {
          this.lastClose = { code: event.code, reason: event.reason, at: Date.now() };
          this.handlers.close();
        }
        if (this.stopped) {
          this.render('closed');
        } else {
          this.scheduleRetry();
        }
      });
    }

    scheduleRetry() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(this.failures, 10));
      // Jitter: anywhere from 75% to 125% of the step, never above the cap.
      const delay = Math.min(BACKOFF_MAX_MS, base * (0.75 + Math.random() * 0.5));
      this.failures += 1;
      this.retryAt = Date.now() + delay;
      this.retryTimer = setTimeout(() => this.connect(), delay);
      this.countdown = setInterval(() => this.render('reconnecting'), 100);
      this.render('reconnecting');
    }

    render(state) {
      const { box, state: stateText, close, retry } = this.ui;
      box.dataset.state = state;
      stateText.textContent = state;
      if (this.lastClose && state !== 'open') {
        const { code, reason } = this.lastClose;
        box.dataset.closeCode = String(code);
        const name = CLOSE_NAMES[code] ? ` ${CLOSE_NAMES[code]}` : '';
        close.textContent = `closed ${code}${name}${reason ? ` \u201c${reason}\u201d` : ''}`;
        close.hidden = false;
      } else {
        close.hidden = true;
      }
      if (state === 'reconnecting') {
        const seconds = Math.max(0, (this.retryAt - Date.now()) / 1000);
        const tries = this.failures > 1 ? ` (attempt ${this.failures})` : '';
        retry.textContent = `reconnecting in ${seconds.toFixed(1)} s${tries}`;
        retry.hidden = false;
      } else if (state === 'connecting' && this.failures > 0) {
        retry.textContent = `attempt ${this.failures}`;
        retry.hidden = false;
      } else {
        retry.hidden = true;
      }
    }
  }

  // ---------------------------------------------------------------------
  // Chat

  const chatUi = {
    joinForm: byId('join-form'),
    nick: byId('nick-input'),
    room: byId('room-input'),
    join: byId('join-button'),
    leave: byId('leave-button'),
    rooms: byId('rooms-list'),
    roomsEmpty: byId('rooms-empty'),
    roomsRefresh: byId('rooms-refresh'),
    membersRoom: byId('members-room'),
    members: byId('members-list'),
    tabs: byId('my-rooms'),
    messages: byId('message-list'),
    messagesEmpty: byId('messages-empty'),
    sayForm: byId('say-form'),
    text: byId('message-input'),
    send: byId('send-button'),
  };

  const MAX_MESSAGES_PER_ROOM = 500;
  const MAX_PENDING = 100;
  const ROOMS_REFRESH_MS = 5000;

  const chat = {
    serverRooms: [], // [{room, count}] as the server last listed them
    mine: new Map(), // room -> {nick, joined, members: Set, log: [], unread}
    current: null,
    // What we asked and have no answer to yet, oldest first (an `error`
    // names no request: takeRefused() finds the one it answers).
    pending: [],
    wasConnected: false,
  };

  const chatLink = new Link('/chat', 'chat', {
    open: () => {
      const rejoin = chat.wasConnected;
      chat.wasConnected = true;
      chat.pending = [];
      // Back in every room we were in, with the same nickname.
      for (const [room, entry] of chat.mine) {
        entry.joined = false;
        entry.rejoin = rejoin;
        sendChat({ type: 'join', room, nick: entry.nick });
      }
      renderChat();
    },
    message: (m) => onChatMessage(m),
    close: () => {
      for (const entry of chat.mine.values()) {
        entry.joined = false;
        entry.members.clear();
      }
      chat.pending = [];
      if (chat.mine.size > 0) {
        for (const room of chat.mine.keys()) addNotice(room, 'Disconnected: rejoining when the connection is back.');
      }
      renderChat();
    },
  });

  function sendChat(message) {
    if (!chatLink.send(message)) return false;
    const rejoin = message.type === 'join' && chat.mine.get(message.room)?.rejoin === true;
    chat.pending.push({ type: message.type, room: message.room, rejoin });
    if (chat.pending.length > MAX_PENDING) chat.pending.shift();
    return true;
  }

  function settle(type, room) {
    const i = chat.pending.findIndex((p) => p.type === type && (room === undefined || p.room === room));
    if (i >= 0) chat.pending.splice(i, 1);
  }

  // Which requests an error can be the answer to, by its wording; those not
  // listed can answer any.
  const ERROR_SOURCES = {
    'missing nick': ['join'],
    'nickname too long': ['join'],
    'nickname taken': ['join'],
    'already in that room': ['join'],
    'bad nickname': ['join'],
    'too many rooms': ['join'],
    'missing text': ['say'],
    'text too long': ['say'],
    'not in that room': ['say', 'leave'],
    'missing room': ['join', 'leave', 'say'],
    'bad room name': ['join', 'leave', 'say'],
  };

  // The request an error refuses: the oldest unanswered one it can belong to
  // (the server answers in order, but a message of ours that it publishes to
  // the room may reach us after an answer sent to us alone).
  function takeRefused(error) {
    const sources = ERROR_SOURCES[error];
    let i = sources ? chat.pending.findIndex((p) => sources.includes(p.type)) : -1;
    if (i < 0) i = 0;
    return chat.pending.splice(i, 1)[0];
  }

  function describeRequest(p) {
    switch (p.type) {
      case 'join': return p.rejoin ? `rejoining ${p.room}` : `joining ${p.room}`;
      case 'leave': return `leaving ${p.room}`;
      case 'say': return `message to ${p.room}`;
      case 'rooms': return 'room list';
      default: return p.type;
    }
  }

  function entryFor(room, nick) {
    let entry = chat.mine.get(room);
    if (!entry) {
      entry = { nick, joined: false, rejoin: false, members: new Set(), log: [], unread: 0 };
      chat.mine.set(room, entry);
    }
    return entry;
  }

  function setRoomCount(room, count) {
    if (typeof count !== 'number') return;
    const known = chat.serverRooms.find((r) => r.room === room);
    if (known) known.count = count;
    else chat.serverRooms.push({ room, count });
  }

  function addToLog(room, item) {
    const entry = chat.mine.get(room);
    if (!entry) return;
    entry.log.push(item);
    if (entry.log.length > MAX_MESSAGES_PER_ROOM) entry.log.shift();
    if (room === chat.current) {
      appendLogItem(item, true);
    } else if (item.kind === 'message') {
      entry.unread += 1;
      renderTabs();
    }
  }

  function addNotice(room, text) {
    addToLog(room, { kind: 'notice', text, time: Date.now() });
  }

  function asText(value) {
    return typeof value === 'string' ? value : String(value ?? '');
  }

  function asRoomList(rooms) {
    if (!Array.isArray(rooms)) return [];
    return rooms
      .filter((r) => r && typeof r === 'object')
      .map((r) => ({ room: asText(r.room), count: Number(r.count) || 0 }));
  }

  function onChatMessage(m) {
    const room = asText(m.room);
    switch (m.type) {
      case 'welcome':
        chat.serverRooms = asRoomList(m.rooms);
        renderRooms();
        break;
      case 'rooms':
        settle('rooms');
        chat.serverRooms = asRoomList(m.rooms);
        renderRooms();
        break;
      case 'joined': {
        settle('join', room);
        const entry = entryFor(room, asText(m.nick));
        entry.nick = asText(m.nick);
        entry.joined = true;
        entry.members = new Set(Array.isArray(m.members) ? m.members.map(asText) : [entry.nick]);
        entry.members.add(entry.nick);
        setRoomCount(room, entry.members.size);
        addNotice(room, entry.rejoin ? `Rejoined ${room} as ${entry.nick}.` : `You joined ${room} as ${entry.nick}.`);
        entry.rejoin = false;
        if (chat.current === null) selectRoom(room);
        renderChat();
        break;
      }
      case 'left':
        settle('leave', room);
        if (chat.mine.has(room)) dropRoom(room);
        setRoomCount(room, Math.max(0, (chat.serverRooms.find((r) => r.room === room)?.count ?? 1) - 1));
        renderChat();
        break;
      case 'presence': {
        const entry = chat.mine.get(room);
        const nick = asText(m.nick);
        setRoomCount(room, m.count);
        if (entry) {
          if (m.event === 'join') {
            entry.members.add(nick);
            addNotice(room, `${nick} joined.`);
          } else if (m.event === 'leave') {
            entry.members.delete(nick);
            addNotice(room, `${nick} left.`);
          }
        }
        renderChat();
        break;
      }
      case 'message': {
        const entry = chat.mine.get(room);
        if (!entry) break;
        const nick = asText(m.nick);
        const own = nick === entry.nick;
        if (own) settle('say', room);
        addToLog(room, { kind: 'message', nick, text: asText(m.text), time: Number(m.time) || Date.now(), own });
        break;
      }
      case 'error': {
        const request = takeRefused(asText(m.error));
        const reason = asText(m.error) || 'refused';
        if (request) {
          showError(`${describeRequest(request)}: ${reason}`);
          // A refused join leaves us out of that room.
          if (request.type === 'join') {
            const entry = chat.mine.get(request.room);
            if (entry && !entry.joined) dropRoom(request.room);
          }
        } else {
          showError(`chat: ${reason}`);
        }
        renderChat();
        break;
      }
      default:
        break; // Unknown kinds are ignored: the protocol may grow.
    }
  }

  function dropRoom(room) {
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
    renderLog();
    renderChat();
  }

  // Joining, leaving, saying.

  chatUi.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const nick = chatUi.nick.value.trim();
    const room = chatUi.room.value.trim();
    if (!nick) {
      showError('Choose a nickname first.');
      chatUi.nick.focus();
      return;
    }
    if (!room) {
      showError('Type the name of a room.');
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
    // Already in it, or on the way in (joins are sent again on reconnect).
    if (chat.mine.has(room)) {
      selectRoom(room);
      return;
    }
    if (!chatLink.isOpen) {
      showError('The chat is not connected: try again once it is open.');
      return;
    }
    const entry = entryFor(room, nick);
    entry.nick = nick;
    entry.rejoin = false;
    sendChat({ type: 'join', room, nick });
    selectRoom(room);
  }

  chatUi.leave.addEventListener('click', () => {
    const room = chat.current;
    if (room === null) return;
    const entry = chat.mine.get(room);
    if (entry && entry.joined) sendChat({ type: 'leave', room });
    dropRoom(room);
    renderChat();
  });

  chatUi.sayForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = chatUi.text.value;
    const room = chat.current;
    if (!text.trim() || room === null) return;
    const entry = chat.mine.get(room);
    if (!entry || !entry.joined) {
      showError(`Not in ${room} yet.`);
      return;
    }
    if (sendChat({ type: 'say', room, text })) {
      chatUi.text.value = '';
    } else {
      showError('The chat is not connected: the message was not sent.');
    }
  });

  chatUi.roomsRefresh.addEventListener('click', () => sendChat({ type: 'rooms' }));
  setInterval(() => {
    if (chatLink.isOpen && document.visibilityState === 'visible') sendChat({ type: 'rooms' });
  }, ROOMS_REFRESH_MS);

  // Rendering.

  function renderChat() {
    renderRooms();
    renderTabs();
    renderMembers();
    const entry = chat.current === null ? null : chat.mine.get(chat.current);
    const canSay = chatLink.isOpen && entry !== undefined && entry !== null && entry.joined;
    chatUi.text.disabled = !canSay;
    chatUi.send.disabled = !canSay;
    chatUi.leave.disabled = chat.current === null;
    chatUi.join.disabled = false;
    chatUi.messagesEmpty.hidden = chat.current !== null;
  }

  function renderRooms() {
    const list = chat.serverRooms.filter((r) => r.count > 0 || chat.mine.has(r.room));
    for (const room of chat.mine.keys()) {
      if (!list.some((r) => r.room === room)) list.push({ room, count: chat.mine.get(room).members.size });
    }
    list.sort((a, b) => a.room.localeCompare(b.room));
    chatUi.rooms.replaceChildren(
      ...list.map(({ room, count }) => {
        const li = el('li');
        li.dataset.testid = 'room-item';
        li.dataset.room = room;
        const button = el('button', 'room-button');
        button.type = 'button';
        if (chat.mine.has(room)) button.classList.add('in');
        if (room === chat.current) button.classList.add('current');
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
    chatUi.roomsEmpty.hidden = list.length > 0;
  }

  function renderTabs() {
    chatUi.tabs.replaceChildren(
      ...[...chat.mine.entries()].map(([room, entry]) => {
        const tab = el('button', 'tab');
        tab.type = 'button';
        tab.dataset.testid = 'room-tab';
        tab.dataset.room = room;
        tab.setAttribute('role', 'tab');
        tab.setAttribute('aria-selected', String(room === chat.current));
        if (!entry.joined) tab.classList.add('pending');
        tab.append(el('span', 'tab-name', room));
        if (entry.unread > 0) tab.append(el('span', 'badge', String(entry.unread)));
        tab.addEventListener('click', () => selectRoom(room));
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
    const names = [...entry.members].sort((a, b) => a.localeCompare(b));
    chatUi.members.replaceChildren(
      ...names.map((nick) => {
        const li = el('li', 'member');
        li.dataset.testid = 'member';
        li.dataset.nick = nick;
        const name = el('span', 'member-nick', nick);
        name.dataset.testid = 'member-nick';
        li.append(name);
        if (nick === entry.nick) li.append(el('span', 'you', 'you'));
        return li;
      }),
    );
    if (!entry.joined) {
      chatUi.members.append(el('li', 'member muted', chatLink.isOpen ? 'joining\u2026' : 'offline'));
    }
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
      li.dataset.testid = 'chat-message';
      li.dataset.room = chat.current;
      const head = el('div', 'msg-head');
      const nick = el('span', 'nick', item.nick);
      nick.dataset.testid = 'chat-nick';
      const time = el('time', 'time', clockTime(item.time));
      time.dataset.testid = 'chat-time';
      time.dateTime = new Date(item.time).toISOString();
      head.append(nick, time);
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

  // ---------------------------------------------------------------------
  // Ticker

  const tickerUi = {
    rate: byId('ticker-rate'),
    rows: byId('ticker-rows'),
    empty: byId('ticker-empty'),
    seq: byId('ticker-seq'),
    count: byId('ticker-count'),
    missed: byId('ticker-missed'),
    time: byId('ticker-time'),
    table: byId('ticker-table'),
  };

  const HISTORY = 40;
  const ticker = {
    arrivals: [], // performance.now() of the ticks in the last second
    count: 0,
    missed: 0,
    lastSeq: null,
    symbols: new Map(), // symbol -> {row, price, change, spark, history: []}
  };

  const tickerLink = new Link('/ticker', 'ticker', {
    open: () => {
      ticker.lastSeq = null;
      tickerUi.table.classList.remove('stale');
    },
    message: (m) => {
      if (m.type === 'tick') onTick(m);
    },
    close: () => {
      tickerUi.table.classList.add('stale');
    },
  });

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
      spark.setAttribute('viewBox', `0 0 ${HISTORY - 1} 20`);
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
      if (s.history.length > HISTORY) s.history.shift();
      drawSpark(s);
    }
  }

  function drawSpark(s) {
    const h = s.history;
    const lo = Math.min(...h);
    const hi = Math.max(...h);
    const span = hi - lo || 1;
    const offset = HISTORY - h.length;
    const points = h.map((v, i) => `${offset + i},${(19 - ((v - lo) / span) * 18).toFixed(2)}`);
    s.line.setAttribute('points', points.join(' '));
  }

  function renderRate() {
    const now = performance.now();
    while (ticker.arrivals.length > 0 && now - ticker.arrivals[0] > 1000) ticker.arrivals.shift();
    tickerUi.rate.textContent = String(ticker.arrivals.length);
  }

  setInterval(renderRate, 250);

  // ---------------------------------------------------------------------
  // Start.

  try {
    const saved = localStorage.getItem('duplex.nick');
    if (saved && !chatUi.nick.value) chatUi.nick.value = saved;
  } catch {
    // No storage: no remembered nickname.
  }
  renderChat();
  chatLink.start();
  tickerLink.start();
  window.addEventListener('pagehide', (event) => {
    if (!event.persisted) {
      chatLink.stop();
      tickerLink.stop();
    }
  });
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) {
      chatLink.start();
      tickerLink.start();
    }
  });
})();
