// What the Node peer programs share: loading `ws`, the payloads, and the
// constants both sides of the interop tests agree on (see peer_common.py).

// The sizes RFC 6455 framing treats differently: the 7-bit, 16-bit and 64-bit
// length encodings and the edges between them, then large messages.
export const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024];
export const FRAGMENT_SIZE = 1000;
export const ALLOWED_ORIGIN = 'http://allowed.example';
export const REFUSED_ORIGIN = 'http://refused.example';
export const REJECT_BODY = 'rejected by hook';
export const MAX_MESSAGE = 32 * 1024 * 1024;

// `ws` comes from tests/interop/node_modules; say how to get it rather than
// failing with a module-resolution stack trace.
export async function loadWs() {
  try {
    return await import('ws');
  } catch (e) {
    console.error(
      `the Node package "ws" is missing (${e.code || e.message}): ` +
        'run `npm ci --prefix tests/interop` first',
    );
    process.exit(1);
  }
}

// Blocks of prime length, so that the pattern does not line up with frame or
// mask boundaries; a shifted or truncated echo does not compare equal.
const TEXT_BLOCK = Buffer.from(
  Array.from({ length: 9973 }, (_, i) => 32 + ((i * 7 + Math.floor(i / 95)) % 95)),
);
const BINARY_BLOCK = Buffer.from(
  Array.from({ length: 65521 }, (_, i) => (i * 31 + Math.floor(i / 251)) & 0xff),
);

// Messages are { data: Buffer, isBinary } on both sides of the comparison.
export function textOfSize(size) {
  return { data: Buffer.alloc(size, TEXT_BLOCK), isBinary: false };
}

export function binaryOfSize(size) {
  return { data: Buffer.alloc(size, BINARY_BLOCK), isBinary: true };
}

export function text(string) {
  return { data: Buffer.from(string), isBinary: false };
}

export function describe(message) {
  return `${message.isBinary ? 'binary' : 'text'} ${message.data.length} bytes`;
}

// null when `got` is exactly `sent`, else a short description.
export function difference(sent, got) {
  if (sent.isBinary !== got.isBinary || sent.data.length !== got.data.length) {
    return `sent ${describe(sent)}, got ${describe(got)}`;
  }
  if (sent.data.equals(got.data)) return null;
  const first = sent.data.findIndex((byte, i) => byte !== got.data[i]);
  return `${describe(sent)}: byte ${first} differs`;
}

// A message cut into frames of `size` bytes, as ws.send() calls with fin.
export function sendFragmented(ws, message, size) {
  const { data, isBinary } = message;
  for (let start = 0; start === 0 || start < data.length; start += size) {
    const end = Math.min(start + size, data.length);
    ws.send(data.subarray(start, end), { binary: isBinary, fin: end === data.length });
  }
}
