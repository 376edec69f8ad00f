// The demo page in a real browser: two headless Chromium pages against
// `duplex serve`, on the push server's channels: chatting in chat:lobby,
// watching the ticker and the live comments, streaming an answer, riding
// out a dropped connection (and recovering what was published meanwhile)
// and a server restart on the same port (history gone: not recovered).
//
//   node demo_test.mjs DUPLEX_BINARY SCREENSHOT_PATH
//
// Environment: DUPLEX_DEMO_STATIC=DIR serves DIR (e.g. web/) with --static
// instead of the page embedded in the binary; DUPLEX_CHROMIUM overrides
// /usr/bin/chromium.
//
// Every wait is bounded (WAIT_MS each, TOTAL_MS for the whole run); any
// failure exits 1 with one line saying what was expected. The server and the
// browser are stopped on every path out.

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WAIT_MS = 15000;
const TOTAL_MS = 150000;
const API_KEY = `test-${Math.random().toString(36).slice(2)}`;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.DUPLEX_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (line) => console.log(`[${elapsed()}] ${line}`);

function usage(message) {
  console.error(`demo_test: ${message}`);
  console.error('usage: node demo_test.mjs DUPLEX_BINARY SCREENSHOT_PATH');
  process.exit(2);
}

const [binary, screenshotPath] = process.argv.slice(2);
if (!binary || !screenshotPath) usage('two arguments expected');
if (!existsSync(binary)) usage(`no such binary: ${binary}`);
if (!existsSync(path.join(HERE, 'node_modules', 'playwright-core'))) {
  console.error('FAIL browser.demo: playwright-core is not installed: run `npm ci --prefix tests/browser`');
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`FAIL browser.demo: no Chromium at ${CHROMIUM}: install it (apt-get install chromium)`);
  process.exit(1);
}
const staticDir = process.env.DUPLEX_DEMO_STATIC || '';
if (staticDir && !existsSync(staticDir)) usage(`DUPLEX_DEMO_STATIC: no such directory: ${staticDir}`);

const { chromium } = await import('playwright-core');

const outDir = path.dirname(path.resolve(screenshotPath));
mkdirSync(outDir, { recursive: true });
const serverLogPath = path.join(outDir, 'demo-server.log');
const serverLog = createWriteStream(serverLogPath);

// ---------------------------------------------------------------------------
// The server

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

let server = null; // {child, exited: Promise<{code, signal}>, done}

function startServerOnce(port) {
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--api-key', API_KEY];
  if (staticDir) args.push('--static', staticDir);
  serverLog.write(`$ ${binary} ${args.join(' ')}\n`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const record = { child, done: false, exited: null };
  record.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      record.done = true;
      serverLog.write(`[exit code=${code} signal=${signal}]\n`);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      record.done = true;
      serverLog.write(`[spawn error: ${error.message}]\n`);
      resolve({ code: null, signal: null, error });
    });
  });
  child.stderr.on('data', (chunk) => serverLog.write(chunk));
  const expected = `listening on ws://127.0.0.1:${port}`;
  const ready = new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no "${expected}" line within ${WAIT_MS / 1000} s`)),
      WAIT_MS,
    );
    child.stdout.on('data', (chunk) => {
      serverLog.write(chunk);
      if (seen.length < 65536) seen += chunk.toString('utf8');
      if (seen.split('\n').some((line) => line.trim() === expected)) {
        clearTimeout(timer);
        resolve();
      }
    });
    record.exited.then(({ code, signal, error }) => {
      clearTimeout(timer);
      reject(new Error(error ? `cannot start: ${error.message}` : `exited early (code ${code}, signal ${signal})`));
    });
  });
  return { record, ready };
}

// The second start reuses the port of the first: a few tries in case the
// kernel still holds it for a moment.
async function startServer(port) {
  const tries = 5;
  for (let attempt = 1; ; attempt += 1) {
    const { record, ready } = startServerOnce(port);
    server = record;
    try {
      await ready;
      return;
    } catch (error) {
      if (!record.done) await killServer();
      if (attempt >= tries || !/exited early/.test(error.message)) {
        throw new Error(`server on port ${port}: ${error.message} (log: ${serverLogPath})`);
      }
      await sleep(500);
    }
  }
}

async function stopServer() {
  const { child, exited } = server;
  log(`SIGTERM to server pid ${child.pid}`);
  process.kill(child.pid, 'SIGTERM');
  const result = await withTimeout(exited, WAIT_MS, 'the server did not exit after SIGTERM');
  server = null;
  if (result.code !== 0) {
    throw new Error(`the server exited with code ${result.code} (signal ${result.signal}) after SIGTERM, expected 0`);
  }
}

async function killServer() {
  if (!server || server.done) return;
  const { child, exited } = server;
  try {
    process.kill(child.pid, 'SIGTERM');
    await withTimeout(exited, 5000, 'no exit');
  } catch {
    try {
      process.kill(child.pid, 'SIGKILL');
      await withTimeout(exited, 5000, 'no exit');
    } catch {
      // Gone already, or beyond reach: nothing more to do.
    }
  }
}

// ---------------------------------------------------------------------------
// Helpers

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Waits (polling in the page, at most WAIT_MS) until `predicate(arg)` is true.
async function until(page, what, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: WAIT_MS, polling: 100 });
  } catch (error) {
    const first = String(error.message).split('\n')[0];
    throw new Error(`${page.label}: ${what}: not within ${WAIT_MS / 1000} s (${first})`);
  }
}

function connState(page, name) {
  return page.evaluate((n) => {
    const box = document.querySelector(`[data-testid="${n}-conn"]`);
    return box ? box.textContent.replace(/\s+/g, ' ').trim() : '(no badge)';
  }, name);
}

// What a page shows, for the failure message.
async function describePage(page) {
  try {
    return await withTimeout(
      page.evaluate(() => {
        const text = (id) => {
          const node = document.querySelector(`[data-testid="${id}"]`);
          return node ? node.textContent.replace(/\s+/g, ' ').trim() : '(missing)';
        };
        const all = (id) => [...document.querySelectorAll(`[data-testid="${id}"]`)].map((n) => n.textContent.replace(/\s+/g, ' ').trim());
        return {
          connection: text('push-conn'),
          subs: ['chat', 'ticker', 'comments', 'answer'].map((n) => `${n}: ${text(`${n}-sub`)}`),
          recovery: [text('chat-recovery'), text('ticker-recovery')],
          errors: all('error'),
          rooms: all('room-item'),
          members: all('member-nick'),
          messages: all('chat-message').slice(-5),
          tickerCount: text('ticker-count'),
          comments: text('comments-count'),
          answer: text('answer-text').slice(0, 80),
        };
      }),
      3000,
      'no answer',
    );
  } catch (error) {
    return `(cannot read the page: ${error.message})`;
  }
}

const checks = [];
async function check(name, fn) {
  const t0 = Date.now();
  await fn();
  checks.push(name);
  log(`ok  ${name} (${Date.now() - t0} ms)`);
}

// ---------------------------------------------------------------------------
// Page actions and observations

async function api(port, method, body) {
  const response = await withTimeout(
    fetch(`http://127.0.0.1:${port}/api/${method}`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
    WAIT_MS,
    `/api/${method}: no answer`,
  );
  const answer = await response.json().catch(() => ({}));
  if (response.status !== 200 || answer.error) {
    throw new Error(`/api/${method} answered ${response.status} ${JSON.stringify(answer)}`);
  }
  return answer.result;
}

async function join(page, nick, room) {
  await page.getByTestId('nick-input').fill(nick);
  await page.getByTestId('room-input').fill(room);
  await page.getByTestId('join-button').click();
}

async function say(page, text) {
  const input = page.getByTestId('message-input');
  await until(page, 'the message box enabled', () => !document.querySelector('[data-testid="message-input"]').disabled);
  await input.fill(text);
  await page.getByTestId('send-button').click();
}

function waitConnected(page) {
  return until(page, 'the connection shown connected', () => {
    const box = document.querySelector('[data-testid="push-conn"]');
    return box?.dataset.state === 'connected' &&
      document.querySelector('[data-testid="push-state"]')?.textContent.trim() === 'connected';
  });
}

function waitSubscribed(page, name) {
  return until(
    page,
    `${name} panel shown subscribed`,
    (n) => document.querySelector(`[data-testid="${n}-sub"]`)?.dataset.state === 'subscribed' &&
      document.querySelector(`[data-testid="${n}-sub-state"]`)?.textContent.trim() === 'subscribed',
    name,
  );
}

function waitMembers(page, room, nicks) {
  return until(
    page,
    `members of ${room} to be ${nicks.join(', ')}`,
    ([r, want]) => {
      if (document.querySelector('[data-testid="members-room"]')?.textContent !== r) return false;
      const got = [...document.querySelectorAll('[data-testid="members-list"] [data-testid="member-nick"]')].map((n) => n.textContent);
      return want.length === got.length && want.every((n) => got.includes(n));
    },
    [room, nicks],
  );
}

function waitMessage(page, nick, text) {
  return until(
    page,
    `the message "${text}" from ${nick}`,
    ([who, what]) =>
      [...document.querySelectorAll('[data-testid="message-list"] [data-testid="chat-message"]')].some((m) => {
        const n = m.querySelector('[data-testid="chat-nick"]');
        const t = m.querySelector('[data-testid="chat-text"]');
        const time = m.querySelector('[data-testid="chat-time"]');
        // Shown as text: the markup in it must not have become elements.
        return n?.textContent === who && t?.textContent === what && t.children.length === 0 &&
          /^\d\d:\d\d:\d\d$/.test(time?.textContent ?? '') && m.checkVisibility();
      }),
    [nick, text],
  );
}

function waitRoomCount(page, room, count) {
  return until(
    page,
    `rooms list to show ${room} with ${count}`,
    ([r, c]) => {
      const item = document.querySelector(`[data-testid="rooms-list"] [data-testid="room-item"][data-room="${r}"]`);
      return item !== null && item.querySelector('.count')?.textContent === String(c) && item.textContent.includes(r);
    },
    [room, count],
  );
}

function tickerSnapshot(page) {
  return page.evaluate(() => {
    const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
    const prices = {};
    for (const cell of document.querySelectorAll('[data-testid="ticker-price"]')) prices[cell.dataset.symbol] = cell.textContent;
    return { count: Number(text('ticker-count')), seq: text('ticker-seq'), rate: Number(text('ticker-rate')), prices };
  });
}

async function waitTickerMoving(page) {
  const before = await tickerSnapshot(page);
  await until(
    page,
    `ticker to move (from ${JSON.stringify(before)})`,
    (b) => {
      const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
      const cells = [...document.querySelectorAll('[data-testid="ticker-price"]')];
      const changed = cells.some((c) => b.prices[c.dataset.symbol] !== undefined && b.prices[c.dataset.symbol] !== c.textContent);
      const numeric = cells.length > 0 && cells.every((c) => /^-?\d+(\.\d+)?$/.test(c.textContent));
      return Number(text('ticker-count')) >= b.count + 3 && text('ticker-seq') !== b.seq &&
        Number(text('ticker-rate')) > 0 && numeric && changed;
    },
    before,
  );
  const after = await tickerSnapshot(page);
  return `${after.rate} msgs/s, ${Object.entries(after.prices).map(([s, p]) => `${s} ${p}`).join(' ')}`;
}

async function waitCommentsFlowing(page) {
  const before = await page.evaluate(() => Number(document.querySelector('[data-testid="comments-count"]').textContent));
  await until(
    page,
    `comments to flow (from ${before})`,
    (b) => {
      const bubbles = [...document.querySelectorAll('[data-testid="comments-stream"] [data-testid="comment"]')];
      return Number(document.querySelector('[data-testid="comments-count"]').textContent) >= b + 3 &&
        bubbles.length > 0 && bubbles.length <= 30 &&
        bubbles.some((c) => c.querySelector('[data-testid="comment-text"]')?.textContent.length > 0);
    },
    before,
  );
  return page.evaluate(() => document.querySelectorAll('[data-testid="comments-stream"] [data-testid="comment"]').length);
}

// The answer element's text, observed while it streams: it must grow over
// several observations before the page marks it done.
async function watchAnswer(page) {
  const lengths = [];
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const { length, state } = await page.evaluate(() => ({
      length: document.querySelector('[data-testid="answer-text"]').textContent.length,
      state: document.querySelector('[data-testid="answer-box"]').dataset.state,
    }));
    if (lengths.length === 0 || lengths[lengths.length - 1] !== length) lengths.push(length);
    if (state === 'done') break;
    if (state === 'failed') throw new Error(`${page.label}: the answer failed: ${await page.getByTestId('answer-progress').textContent()}`);
    if (Date.now() > deadline) throw new Error(`${page.label}: the answer was not done within ${WAIT_MS / 1000} s (lengths ${lengths.join(' ')})`);
    await sleep(40);
  }
  const growing = lengths.filter((n) => n > 0);
  if (growing.length < 4) {
    throw new Error(`${page.label}: the answer did not stream: it was seen at lengths ${lengths.join(' ')} only`);
  }
  return growing;
}

function clientIdOf(page) {
  return page.evaluate(() => window.duplexPush?.clientId ?? null);
}

// ---------------------------------------------------------------------------
// The run

let browser = null;
let profileDir = null;
let pageA = null;
let pageB = null;
let cleaningUp = null;

async function cleanup() {
  if (cleaningUp) return cleaningUp;
  cleaningUp = (async () => {
    if (browser) {
      await withTimeout(browser.close(), 10000, 'browser did not close').catch((e) => log(`warning: ${e.message}`));
    }
    await killServer();
    if (profileDir) await rm(profileDir, { recursive: true, force: true }).catch(() => {});
    await new Promise((resolve) => serverLog.end(resolve));
  })();
  return cleaningUp;
}

function fail(message) {
  console.error(`FAIL browser.demo: ${message}`);
  console.error(`  server log: ${serverLogPath}`);
}

const watchdog = setTimeout(async () => {
  fail(`the whole test took longer than ${TOTAL_MS / 1000} s`);
  await withTimeout(cleanup(), 15000, 'cleanup').catch(() => {});
  process.exit(1);
}, TOTAL_MS);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    fail(`stopped by ${signal}`);
    await withTimeout(cleanup(), 15000, 'cleanup').catch(() => {});
    process.exit(1);
  });
}

async function run() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const room = 'lobby';
  const tag = Math.random().toString(36).slice(2, 8);
  const first = `hello from ada <b>${tag}</b> & <i>friends</i>`;
  const second = `back again from grace ${tag}`;

  await check(`server listening on ${port}${staticDir ? ` (page from ${staticDir})` : ''}`, () => startServer(port));

  profileDir = await mkdtemp(path.join(os.tmpdir(), 'duplex-browser-'));
  await check('chromium launched', async () => {
    // Playwright keeps the profile in a fresh temporary directory of its own;
    // ours holds what the browser writes elsewhere (TMPDIR).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      timeout: WAIT_MS,
      env: { ...process.env, TMPDIR: profileDir },
    });
  });

  // Two independent visitors: A on a desktop width, B on a phone width.
  const pageErrors = [];
  const open = async (label, viewport) => {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.label = label;
    page.setDefaultTimeout(WAIT_MS);
    page.on('pageerror', (error) => pageErrors.push(`${label}: ${error.message}`));
    const response = await page.goto(url, { timeout: WAIT_MS, waitUntil: 'load' });
    if (!response || response.status() !== 200) {
      throw new Error(`${label}: GET ${url} answered ${response ? response.status() : 'nothing'}`);
    }
    return page;
  };
  await check('two pages loaded', async () => {
    pageA = await open('page A', { width: 1280, height: 900 });
    pageB = await open('page B', { width: 390, height: 844 });
    for (const page of [pageA, pageB]) {
      if ((await page.getByTestId('push-conn').count()) !== 1) {
        throw new Error(`${page.label}: the page at ${url} is not the demo page (no push-conn element); ` +
          'if the binary embeds an older copy, set DUPLEX_DEMO_STATIC=web');
      }
    }
  });
  const pages = [pageA, pageB];

  await check('both pages connected, ticker and comments subscribed', async () => {
    for (const page of pages) {
      await waitConnected(page);
      await waitSubscribed(page, 'ticker');
      await waitSubscribed(page, 'comments');
    }
  });

  await check('A joins chat:lobby', async () => {
    await join(pageA, 'ada', room);
    await waitSubscribed(pageA, 'chat');
    await waitMembers(pageA, room, ['ada']);
  });

  await check('B joins as grace; both see both in the members list', async () => {
    await join(pageB, 'grace', room);
    await waitSubscribed(pageB, 'chat');
    await waitMembers(pageB, room, ['ada', 'grace']);
    await waitMembers(pageA, room, ['ada', 'grace']);
  });

  await check('rooms list shows lobby with 2 on both pages', async () => {
    await waitRoomCount(pageA, room, 2);
    await waitRoomCount(pageB, room, 2);
  });

  await check('A says something; B and A show it, as text', async () => {
    await say(pageA, first);
    await waitMessage(pageB, 'ada', first);
    await waitMessage(pageA, 'ada', first);
  });

  await check('ticker moves on both pages', async () => {
    for (const page of pages) log(`    ${page.label}: ${await waitTickerMoving(page)}`);
  });

  await check('comments flow on both pages, and one typed by B reaches A', async () => {
    for (const page of pages) log(`    ${page.label}: ${await waitCommentsFlowing(page)} bubbles on screen`);
    const comment = `nice one ${tag}`;
    await pageB.getByTestId('comment-input').fill(comment);
    await pageB.getByTestId('comment-send').click();
    await until(
      pageA,
      `the comment "${comment}" from grace`,
      (c) => [...document.querySelectorAll('[data-testid="comment"]')].some(
        (b) => b.dataset.nick === 'grace' && b.querySelector('[data-testid="comment-text"]')?.textContent === c),
      comment,
    );
  });

  await check('A asks; the answer streams in word by word', async () => {
    await pageA.getByTestId('ask-input').fill(`how does recovery work? ${tag}`);
    await pageA.getByTestId('ask-button').click();
    const lengths = await watchAnswer(pageA);
    const text = await pageA.getByTestId('answer-text').textContent();
    if (!text.includes(tag)) throw new Error(`the answer does not mention the question: ${text.slice(0, 120)}`);
    log(`    seen growing through ${lengths.length} lengths, up to ${lengths[lengths.length - 1]} characters`);
  });

  await check('A is dropped (3011); messages published meanwhile are recovered', async () => {
    const clientA = await clientIdOf(pageA);
    if (!clientA) throw new Error('page A has no client id');
    const before = await pageA.evaluate(() => document.querySelector('[data-testid="chat-recovery"]').dataset.at ?? '');
    await api(port, 'disconnect', { client: clientA, disconnect: { code: 3011, reason: 'force reconnect' } });
    // The page waits at least half a second before it reconnects.
    const missed = [1, 2, 3].map((i) => `missed ${i} ${tag}`);
    for (const text of missed) {
      await api(port, 'publish', { channel: `chat:${room}`, data: { type: 'message', nick: 'api', text, time: Date.now() } });
    }
    await until(
      pageA,
      `the chat's recovery line to show >= ${missed.length} recovered`,
      ([n, b]) => {
        const line = document.querySelector('[data-testid="chat-recovery"]');
        return line.checkVisibility() && line.dataset.at !== b && Number(line.dataset.recovered) >= n &&
          /recovered \d+ missed message/.test(line.textContent);
      },
      [missed.length, before],
    );
    for (const text of missed) await waitMessage(pageA, 'api', text);
    const close = await pageA.getByTestId('push-conn').getAttribute('data-close-code');
    if (close !== '3011') throw new Error(`page A's last close code is ${close}, expected 3011`);
    log(`    ${await pageA.getByTestId('chat-recovery').textContent()}`);
    await waitConnected(pageA);
    await waitMembers(pageA, room, ['ada', 'grace']);
    await waitMembers(pageB, room, ['ada', 'grace']);
  });

  await check('server stopped by SIGTERM, exit 0', () => stopServer());

  await check('both pages show closed 1001 and reconnecting', async () => {
    for (const page of pages) {
      await until(
        page,
        'the connection shown closed with 1001',
        () => /\bclosed 1001\b/.test(document.querySelector('[data-testid="push-close"]')?.textContent ?? '') &&
          document.querySelector('[data-testid="push-close"]').checkVisibility(),
      );
      await until(
        page,
        'the connection shown reconnecting with a countdown',
        () => document.querySelector('[data-testid="push-conn"]')?.dataset.state === 'reconnecting' &&
          /^reconnecting in \d+\.\d s/.test(document.querySelector('[data-testid="push-retry"]')?.textContent ?? ''),
      );
      log(`    ${page.label}: ${await connState(page, 'push')}`);
    }
  });

  await check('a failed attempt backs off while the server is down', async () => {
    for (const page of pages) {
      await until(
        page,
        'the connection shown waiting for attempt 2 or later',
        () => document.querySelector('[data-testid="push-conn"]')?.dataset.state === 'reconnecting' &&
          /^reconnecting in \d+\.\d s \(attempt ([2-9]|\d\d+)\)$/.test(
            document.querySelector('[data-testid="push-retry"]')?.textContent ?? ''),
      );
    }
    log(`    ${pageA.label}: ${await connState(pageA, 'push')}`);
  });

  await check(`server started again on ${port}`, () => startServer(port));

  await check('both pages reconnect, resubscribe and say the history is gone', async () => {
    for (const page of pages) {
      await waitConnected(page);
      for (const name of ['chat', 'ticker', 'comments']) await waitSubscribed(page, name);
      await until(
        page,
        'the chat\'s recovery line to say it could not recover',
        () => {
          const line = document.querySelector('[data-testid="chat-recovery"]');
          return line.checkVisibility() && line.dataset.recovered === 'none' && line.textContent.includes('could not recover');
        },
      );
    }
    await waitMembers(pageA, room, ['ada', 'grace']);
    await waitMembers(pageB, room, ['ada', 'grace']);
    log(`    ${await pageA.getByTestId('chat-recovery').textContent()}`);
  });

  await check('B says something after the restart; A and B show it', async () => {
    await say(pageB, second);
    await waitMessage(pageA, 'grace', second);
    await waitMessage(pageB, 'grace', second);
  });

  await check('ticker moves again after the restart', async () => {
    for (const page of pages) log(`    ${page.label}: ${await waitTickerMoving(page)}`);
  });

  if (pageErrors.length > 0) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);

  await check(`screenshots saved`, async () => {
    await pageA.screenshot({ path: screenshotPath, fullPage: true, timeout: WAIT_MS });
    const phone = screenshotPath.replace(/(\.png)?$/i, '-phone.png');
    await pageB.screenshot({ path: phone, fullPage: true, timeout: WAIT_MS });
    log(`    ${screenshotPath}, ${phone}`);
  });
}

let status = 0;
try {
  await run();
  log(`browser.demo: ${checks.length} checks passed`);
} catch (error) {
  status = 1;
  fail(error.message);
  if (pageA) {
    for (const page of [pageA, pageB].filter(Boolean)) console.error(`  ${page.label} shows: ${JSON.stringify(await describePage(page))}`);
    await withTimeout(pageA.screenshot({ path: screenshotPath, fullPage: true }), 5000, 'screenshot').then(
      () => console.error(`  screenshot of page A at failure: ${screenshotPath}`),
      () => {},
    );
  }
} finally {
  await withTimeout(cleanup(), 20000, 'cleanup took too long').catch((e) => {
    status = 1;
    console.error(`FAIL browser.demo: ${e.message}`);
  });
  clearTimeout(watchdog);
}
process.exit(status);
