// The floor of an AES-GCM cookie on node:crypto, for the HTTP benchmarks: the session of
// common.ts in a cookie written by hand in the fewest steps (find the cookie, base64url, one AES-256-GCM
// open, JSON; on a write JSON, one seal, the same three headers kit-session sends),
// with none of a library's checks (no format version or key id, no additional data, no
// expiry, no canonical base64url, no size limit). Not a peer: it tells how far any
// design on node:crypto's AES-GCM can go in the same run (bench/README.md, "What
// bounds the cookie targets"). Served by raw-aes-gcm.ts (node:http) and
// express-raw-aes-gcm.ts (the fair reference of kit-session/express).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BENCH_KEY_BASE64, type BenchSession } from './common.js';

const KEY = Buffer.from(BENCH_KEY_BASE64, 'base64');
const NAME = 'raw=';
/** The attributes kit-session sends. */
const ATTRIBUTES = '; Path=/; HttpOnly; Secure; SameSite=Lax';

/** Where the cookie's name starts in a Cookie header, or -1: at the start or after "; " (not inside "xraw="). */
function cookieAt(header: string): number {
  if (header.startsWith(NAME)) {
    return 0;
  }
  const at = header.indexOf(`; ${NAME}`);
  return at === -1 ? -1 : at + 2;
}

function open(token: string): BenchSession | undefined {
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length < 28) {
    return undefined;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', KEY, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as BenchSession;
  } catch {
    return undefined;
  }
}

function seal(values: BenchSession): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', KEY, iv);
  const body = cipher.update(JSON.stringify(values), 'utf8');
  cipher.final();
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * The session of a request's Cookie header, if its `raw` cookie opens.
 *
 * @param header - The Cookie header.
 * @returns The session, or `undefined`.
 */
export function openCookie(header: string | undefined): BenchSession | undefined {
  const at = header === undefined ? -1 : cookieAt(header);
  if (at === -1) {
    return undefined;
  }
  const end = header!.indexOf(';', at);
  return open(header!.slice(at + NAME.length, end === -1 ? undefined : end));
}

/**
 * The headers of a write, as kit-session sends them: `Set-Cookie` with the sealed
 * session, `Vary: Cookie`, `Cache-Control: private`.
 *
 * @param values - The session.
 * @returns The three headers, name and value.
 */
export function sealedHeaders(values: BenchSession): [string, string][] {
  return [
    ['set-cookie', `${NAME}${seal(values)}${ATTRIBUTES}`],
    ['vary', 'Cookie'],
    ['cache-control', 'private'],
  ];
}
