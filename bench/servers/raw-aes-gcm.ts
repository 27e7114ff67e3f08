// The floor of an AES-GCM cookie on node:crypto, for the HTTP benchmark: the counter
// written by hand in the fewest steps (find the cookie, base64url, one AES-256-GCM
// open, JSON; on a write JSON, one seal, the same three headers kit-session sends),
// with none of a library's checks (no format version or key id, no additional data, no
// expiry, no canonical base64url, no size limit). Not a peer: it tells how far any
// design on node:crypto's AES-GCM can go in the same run (bench/README.md, "What
// bounds the cookie targets").
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { announce, BENCH_KEY_BASE64, body } from './common.js';

const KEY = Buffer.from(BENCH_KEY_BASE64, 'base64');
const NAME = 'raw=';
const ATTRIBUTES = '; Path=/; HttpOnly; Secure; SameSite=Lax';

/** Where the cookie's name starts in a Cookie header, or -1: at the start or after "; " (not inside "xraw="). */
function cookieAt(header: string): number {
  if (header.startsWith(NAME)) {
    return 0;
  }
  const at = header.indexOf(`; ${NAME}`);
  return at === -1 ? -1 : at + 2;
}

function open(token: string): { n?: number } | undefined {
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < 28) {
    return undefined;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', KEY, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as { n?: number };
  } catch {
    return undefined;
  }
}

function seal(values: { n?: number }): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', KEY, iv);
  const body = cipher.update(JSON.stringify(values), 'utf8');
  cipher.final();
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

const server = createServer((request, response) => {
  const header = request.headers.cookie;
  const at = header === undefined ? -1 : cookieAt(header);
  let values: { n?: number } | undefined;
  if (at !== -1) {
    const end = header!.indexOf(';', at);
    values = open(header!.slice(at + NAME.length, end === -1 ? undefined : end));
  }
  values ??= {};
  let n = values.n ?? 0;
  if (request.url === '/incr') {
    n += 1;
    values.n = n;
    response.setHeader('set-cookie', `${NAME}${seal(values)}${ATTRIBUTES}`);
    response.setHeader('vary', 'Cookie');
    response.setHeader('cache-control', 'private');
  }
  response.setHeader('content-type', 'application/json');
  response.end(body(n));
});
server.listen(0, '127.0.0.1', () => announce(server));
