// permessage-deflate (RFC 7692) for the Node peers, mirroring peer_deflate.py:
// the messages both directions send, extension headers in one comparable
// form, what the Duplex server's response to an offer must look like, and
// how to tell from the bytes received whether a message came compressed.
import zlib from 'node:zlib';

export const DEFLATE_SIZES = [0, 1, 63, 64, 1000, 65536, 1024 * 1024];
// DeflateOptions::threshold of Duplex: shorter messages go out uncompressed.
export const DUPLEX_THRESHOLD = 64;

const PHRASE = Buffer.from('duplex deflate! '); // 16 bytes
const BINARY_PHRASE = Buffer.from([0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x10, 0xef]);

// xorshift32: the same bytes on every run, nothing repeating within a message.
function randomBytes(size, seed) {
  const out = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function printable(bytes) {
  return bytes.map((b) => 32 + (b % 95));
}

const text = (data) => ({ data, isBinary: false });
const binary = (data) => ({ data, isBinary: true });

// A block over and over: back-references reach the block's length back,
// farther than a 512- or 1024-byte window allows.
function repeated(size, block) {
  return Buffer.alloc(size, block);
}

export const SECOND_COPY = 'random text 200, second copy';
// Compressed size under which the second copy shows the context was kept
// (without it, about 170 bytes).
export const SECOND_COPY_LIMIT = 60;

// [label, message] in the order they are sent, several on one connection so
// that a compression context kept (or wrongly kept) between messages matters.
export function deflateMessages() {
  const messages = [];
  for (const size of DEFLATE_SIZES) {
    messages.push(
      [`compressible text ${size}`, text(Buffer.alloc(size, PHRASE))],
      [`compressible binary ${size}`, binary(Buffer.alloc(size, BINARY_PHRASE))],
      [`random text ${size}`, text(printable(randomBytes(size, size)))],
      [`random binary ${size}`, binary(randomBytes(size, size + 1))],
    );
  }
  const block = randomBytes(3000, 3);
  messages.push(
    ['3000-byte block repeated, text 65536', text(repeated(65536, printable(block)))],
    ['3000-byte block repeated, binary 1048576', binary(repeated(1024 * 1024, block))],
  );
  // Short enough for the smallest window to reach back over (zlib's 512-byte
  // window keeps 262 bytes for look-ahead: 250 bytes back at most).
  const twice = text(printable(randomBytes(200, 99)));
  messages.push(['random text 200, first copy', twice], [SECOND_COPY, twice]);
  return messages;
}

// Deflate with the smallest window an endpoint may use shrinks it to under
// three quarters: such a message must go out compressed.
export function compressible(data) {
  if (data.length === 0) return false;
  const packed = zlib.deflateRawSync(data, { windowBits: 9, level: 6 });
  return packed.length < 0.75 * data.length;
}

// --- Extension headers ------------------------------------------------------

// "a; b=1, c" -> [[name, [[param, value or null]]]]. Enough of RFC 6455's
// grammar for the headers these tests exchange (tokens and quoted tokens).
export function parseExtensions(header) {
  if (!header) return [];
  return header.split(',').map((element) => {
    const [name, ...params] = element.split(';').map((s) => s.trim());
    return [
      name,
      params.map((p) => {
        const eq = p.indexOf('=');
        if (eq < 0) return [p, null];
        return [p.slice(0, eq).trim(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')];
      }),
    ];
  });
}

export function canonical(extensions) {
  if (extensions.length === 0) return 'none';
  return extensions
    .map(([name, params]) => {
      const items = params.map(([p, v]) => (v === null ? p : `${p}=${v}`)).sort();
      return [name, ...items].join('; ');
    })
    .join(', ');
}

// --- What the Duplex server must answer (see peer_deflate.py) ---------------

const KNOWN_PARAMS = [
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
];

function windowBits(value) {
  if (value === null || !/^[0-9]{1,2}$/.test(value)) return null;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : null;
}

// Why the Duplex server must decline this offer (RFC 7692 section 7, and its
// refusal of server_max_window_bits=8), or null.
export function offerProblem(params) {
  const seen = new Set();
  for (const [name, value] of params) {
    if (seen.has(name)) return `${name} twice`;
    seen.add(name);
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== null) return `${name} with a value`;
    } else if (name === 'server_max_window_bits') {
      const bits = windowBits(value);
      if (bits === null) return `server_max_window_bits=${value}`;
      if (bits === 8) return 'server_max_window_bits=8';
    } else if (name === 'client_max_window_bits') {
      if (value !== null && windowBits(value) === null) return `client_max_window_bits=${value}`;
    } else {
      return `unknown parameter ${name}`;
    }
  }
  return null;
}

// What is wrong with `response` as the Duplex server's answer to `offers`
// with DeflateOptions `config`; [] when nothing is.
export function responseProblems(offers, config, response) {
  const acceptable = offers.filter((o) => offerProblem(o) === null);
  if (acceptable.length === 0) {
    return response.length ? [`accepted ${canonical(response)}, but no offer was acceptable`] : [];
  }
  if (response.length !== 1 || response[0][0] !== 'permessage-deflate') {
    return [`answered ${canonical(response)}, expected permessage-deflate`];
  }
  const offer = new Map(acceptable[0]);
  const params = response[0][1];
  const answer = new Map(params);
  const problems = [];
  const names = params.map(([n]) => n);
  for (const name of new Set(names)) {
    if (names.filter((n) => n === name).length > 1) problems.push(`${name} twice`);
    if (!KNOWN_PARAMS.includes(name)) problems.push(`unknown parameter ${name}`);
  }
  for (const flag of ['server_no_context_takeover', 'client_no_context_takeover']) {
    if (answer.has(flag) && answer.get(flag) !== null) problems.push(`${flag}=${answer.get(flag)}`);
  }

  const want = offer.has('server_no_context_takeover') || !config.server_context_takeover;
  if (answer.has('server_no_context_takeover') !== want) {
    problems.push(
      `server_no_context_takeover ${want ? 'missing' : 'although it keeps its context'}`,
    );
  }
  if (!config.client_context_takeover) {
    if (!answer.has('client_no_context_takeover')) {
      problems.push('client_no_context_takeover missing');
    }
  } else if (answer.has('client_no_context_takeover') && !offer.has('client_no_context_takeover')) {
    problems.push('client_no_context_takeover although configured to allow takeover');
  }

  if (answer.has('server_max_window_bits')) {
    const bits = windowBits(answer.get('server_max_window_bits'));
    const limit = Math.min(
      Number(offer.get('server_max_window_bits') ?? 15),
      config.server_max_window_bits,
    );
    if (bits === null || bits < 9 || bits > limit) {
      problems.push(
        `server_max_window_bits=${answer.get('server_max_window_bits')}, expected 9..${limit}`,
      );
    }
  } else if (offer.has('server_max_window_bits')) {
    const offered = offer.get('server_max_window_bits');
    problems.push(`server_max_window_bits missing (offered ${offered})`);
  }

  if (!offer.has('client_max_window_bits')) {
    if (answer.has('client_max_window_bits')) {
      problems.push('client_max_window_bits although the offer had none');
    }
  } else {
    const offered = offer.get('client_max_window_bits');
    const offeredLimit = offered === null ? 15 : Number(offered);
    if (answer.has('client_max_window_bits')) {
      const bits = windowBits(answer.get('client_max_window_bits'));
      const limit = Math.min(offeredLimit, config.client_max_window_bits);
      if (bits === null || bits > limit) {
        problems.push(
          `client_max_window_bits=${answer.get('client_max_window_bits')}, expected 8..${limit}`,
        );
      }
    } else if (config.client_max_window_bits < offeredLimit) {
      problems.push(
        `client_max_window_bits missing (configured ${config.client_max_window_bits}, ` +
          `offered ${offered ?? 'without a value'})`,
      );
    }
  }
  return problems;
}

// --- How a message arrived, judged from the bytes read -----------------------

// `wireBytes`: what the socket delivered for this message (frames and
// headers), from net.Socket#bytesRead. Only Duplex's messages are judged:
// it compresses messages of 64 bytes and more that deflate shrinks, sends
// shorter ones as they are, and when it may keep its context compresses a
// repeated message to a reference.
export function arrivalProblem(label, message, wireBytes, senderTakesOver) {
  const size = message.data.length;
  const squeezable = compressible(message.data);
  // Frame headers: at most 14 bytes.
  if (size < DUPLEX_THRESHOLD && squeezable && wireBytes < size + 2) {
    return `${label}: ${wireBytes} bytes on the wire, compressed under the ` +
      `${DUPLEX_THRESHOLD}-byte threshold`;
  }
  if (size >= DUPLEX_THRESHOLD && squeezable && wireBytes >= 0.75 * size + 14) {
    return `${label}: ${wireBytes} bytes on the wire, as if uncompressed`;
  }
  if (label === SECOND_COPY && senderTakesOver && wireBytes >= SECOND_COPY_LIMIT + 14) {
    return `${label}: ${wireBytes} bytes on the wire; with context takeover, ` +
      `under ${SECOND_COPY_LIMIT} expected`;
  }
  return null;
}
