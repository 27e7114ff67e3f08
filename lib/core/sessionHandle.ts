// The public handle of a session (core): the SHA-256 of its id, which the server-side
// stores key their records by, the listing of an owner's sessions names, and the
// session events carry. Never the id: it cannot be used as a cookie.
import { encodeBase64url } from './base64url.js';

/**
 * node:crypto's `createHash`, as {@link hashId} uses it.
 *
 * @internal
 */
export type CreateHash = (algorithm: 'sha256') => {
  update(data: string, encoding: 'utf8'): { digest(encoding: 'base64url'): string };
};

// Looked up at run time rather than imported, so that this module (and the memory store,
// which shares it) loads on runtimes without node:crypto too (edge runtimes).
const builtinCreateHash: CreateHash | undefined = globalThis.process?.getBuiltinModule?.('node:crypto')?.createHash;

const textEncoder = new TextEncoder();

/** @internal */
export function hashId(id: string, createHash: CreateHash): string;
/** @internal */
export function hashId(id: string): string | Promise<string>;
/**
 * What a server-side store keeps in place of a session id: the SHA-256 of its UTF-8, as
 * base64url without padding (43 characters). A store keys its records (and its owner
 * index) by this hash and never writes the id itself, so that whoever reads the
 * database, a backup or a replica holds nothing they can put in a cookie. The id has
 * 256 random bits, so a plain, unsalted hash is enough: there is nothing to guess.
 *
 * @internal
 * @param id - The session id.
 * @param createHash - node:crypto's `createHash`, for a store that runs on Node only:
 *   the hash is then always computed synchronously.
 * @returns The hash: at once with `createHash` or where node:crypto exists
 *   (`process.getBuiltinModule`), else a promise of it (Web Crypto, edge runtimes).
 * @example
 * ```ts
 * import { createHash } from 'node:crypto';
 *
 * const key = prefix + hashId(id, createHash);
 * ```
 */
export function hashId(id: string, createHash: CreateHash | undefined = builtinCreateHash): string | Promise<string> {
  if (createHash !== undefined) {
    return createHash('sha256').update(id, 'utf8').digest('base64url');
  }
  return globalThis.crypto.subtle
    .digest('SHA-256', textEncoder.encode(id))
    .then((digest) => encodeBase64url(new Uint8Array(digest)));
}

/**
 * A session's handle: the SHA-256 of its id, base64url without padding. 43 characters,
 * the last of which carries 4 bits (and 2 zero bits).
 */
const HANDLE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * Whether a string can be a session's handle (what `hashId` gives: the SHA-256 of an
 * id, base64url). Anything else names no session in any store, so a store answers it
 * ("not found", `false`) before any query: a handle comes from a client (a form field),
 * and a backend may refuse what it holds (PostgreSQL refuses U+0000 in text).
 *
 * @param handle - The handle.
 * @returns `true` when it can.
 * @example
 * ```ts
 * if (!isHandle(handle)) return false; // names no session: no query
 * ```
 */
export function isHandle(handle: unknown): handle is string {
  return typeof handle === 'string' && HANDLE.test(handle);
}
