// Node `ws` clients with permessage-deflate against Duplex servers started
// with --deflate. For each server and each perMessageDeflate setting below:
// the offer `ws` sends, the answer in the 101 judged against RFC 7692 and
// the server's configuration (node_deflate.mjs), then every message of
// deflateMessages() echoed byte for byte, with what the bytes on the wire
// say about compression. Prints one "ok"/"FAIL" line per case; exit 1 if
// any failed.
//
//   node node_deflate_client.mjs --servers JSON
//
// JSON: [{"name": ..., "url": "ws://127.0.0.1:P", "config": {server_context_takeover,
// client_context_takeover, server_max_window_bits, client_max_window_bits}}]
import { parseArgs } from 'node:util';

import {
  arrivalProblem,
  canonical,
  deflateMessages,
  parseExtensions,
  responseProblems,
} from './node_deflate.mjs';
import { difference } from './peer_common.mjs';
import { CheckFailed, Connection, Refused, expect } from './node_connection.mjs';

// perMessageDeflate settings of the `ws` client. threshold 0: `ws` then
// compresses every message, the empty one included.
const CASES = [
  ['defaults', {}],
  ['serverNoContextTakeover', { serverNoContextTakeover: true }],
  ['clientNoContextTakeover', { clientNoContextTakeover: true }],
  ['both no context takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['serverNoContextTakeover false', { serverNoContextTakeover: false }],
  // `ws` reads an explicit false as "the server may not ask for it" and
  // refuses any response with client_no_context_takeover (RFC 7692 lets a
  // server ask for it unasked). Against a server that asks, that refusal is
  // what must happen; against one that does not, compression must work.
  ['clientNoContextTakeover false', { clientNoContextTakeover: false }],
  ['serverMaxWindowBits 9', { serverMaxWindowBits: 9 }],
  ['serverMaxWindowBits 12', { serverMaxWindowBits: 12 }],
  ['serverMaxWindowBits 15', { serverMaxWindowBits: 15 }],
  // Offered without a value, which RFC 7692 does not allow: to be declined.
  ['serverMaxWindowBits true', { serverMaxWindowBits: true }],
  // Duplex declines it: zlib cannot compress with a 256-byte window.
  ['serverMaxWindowBits 8', { serverMaxWindowBits: 8 }],
  ['clientMaxWindowBits 9', { clientMaxWindowBits: 9 }],
  ['clientMaxWindowBits 12', { clientMaxWindowBits: 12 }],
  ['clientMaxWindowBits 15', { clientMaxWindowBits: 15 }],
  ['clientMaxWindowBits true', { clientMaxWindowBits: true }],
  // No client_max_window_bits in the offer: the answer must not have one.
  ['clientMaxWindowBits false', { clientMaxWindowBits: false }],
  [
    'all limits 10',
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 10,
    },
  ],
];

const CASE_LIMIT_MS = 120_000;
const ECHO_LIMIT_MS = 60_000;

function offersIn(header) {
  return parseExtensions(header)
    .filter(([name]) => name === 'permessage-deflate')
    .map(([, params]) => params);
}

function judgeNegotiation(server, extensions) {
  const answer = parseExtensions(extensions.answered);
  const problems = responseProblems(offersIn(extensions.offered), server.config, answer);
  expect(
    problems.length === 0,
    `offered "${extensions.offered}", answered "${extensions.answered}": ${problems.join('; ')}`,
  );
  return answer;
}

async function runCase(server, options) {
  let conn;
  try {
    conn = await Connection.open(`${server.url}/echo`, {
      perMessageDeflate: { ...options, threshold: 0 },
    });
  } catch (e) {
    if (e instanceof Refused) throw new CheckFailed(`refused with HTTP ${e.status}: ${e.body}`);
    if (!e.extensions) throw e;
    const answer = judgeNegotiation(server, e.extensions);
    const asked = answer.some(([, ps]) => ps.some(([p]) => p === 'client_no_context_takeover'));
    if (options.clientNoContextTakeover === false && asked && /Extensions/.test(e.message)) {
      return `answered "${e.extensions.answered}", which ws refuses with this setting ` +
        `("${e.message}")`;
    }
    throw new CheckFailed(
      `${e.message}; offered "${e.extensions.offered}", answered "${e.extensions.answered}"`,
    );
  }
  const answer = judgeNegotiation(server, conn.extensions);
  const negotiated = answer.length > 0;
  expect(
    conn.ws.extensions === (negotiated ? 'permessage-deflate' : ''),
    `ws uses "${conn.ws.extensions}" after the answer "${conn.extensions.answered}"`,
  );
  const takesOver =
    negotiated && !answer[0][1].some(([p]) => p === 'server_no_context_takeover');
  const messages = deflateMessages();
  for (const [label, sent] of messages) {
    // The socket's byte count before and after the echo: what the server's
    // frames of this message took on the wire (nothing else is in flight).
    const before = conn.ws._socket.bytesRead;
    conn.ws.send(sent.data, { binary: sent.isBinary });
    const got = await conn.next('message', ECHO_LIMIT_MS).catch((e) => {
      throw new CheckFailed(`${label}: ${e.message}`);
    });
    const why = difference(sent, got);
    if (why) throw new CheckFailed(`${label}: echo: ${why}`);
    if (negotiated) {
      const problem = arrivalProblem(label, sent, conn.ws._socket.bytesRead - before, takesOver);
      if (problem) throw new CheckFailed(problem);
    }
  }
  const close = await conn.close(1000);
  expect(close.code === 1000, `closed with 1000, server answered ${close.code}`);
  return `${canonical(answer)}; ${messages.length} echoes identical`;
}

function withinLimit(promise, name) {
  let timer;
  const limit = new Promise((_, reject) => {
    const tooLong = () => reject(new CheckFailed(`${name} took over ${CASE_LIMIT_MS} ms`));
    timer = setTimeout(tooLong, CASE_LIMIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const { values } = parseArgs({ options: { servers: { type: 'string' } } });
if (!values.servers) {
  console.error('usage: node node_deflate_client.mjs --servers JSON');
  process.exit(2);
}

let failed = 0;
for (const server of JSON.parse(values.servers)) {
  for (const [name, options] of CASES) {
    const check = `node deflate ${server.name} server, ${name}`;
    try {
      console.log(`ok   ${check}: ${await withinLimit(runCase(server, options), check)}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${check}: ${e.message || e}`);
    }
  }
}
// Connections a failed case left behind must not keep the process alive.
process.exit(failed ? 1 : 0);
