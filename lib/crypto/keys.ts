import { decodeBase64url } from '../core/base64url.js';

/**
 * An AES key for sealing sessions, made by {@link importRawKey}. It is opaque: the key
 * material is held where neither `console.log`, `JSON.stringify` nor a stack trace can
 * reach it; only the key id shows.
 */
export class EncryptionKey {
  /**
   * The key id written into every sealed value, so that the right key is picked when
   * several are listed. Derived from the key (the first 32 bits of a SHA-256 of it,
   * with a label) unless given.
   */
  readonly id: number;
  /** The key's length in bits: 128, 192 or 256. */
  readonly bits: 128 | 192 | 256;

  private constructor(id: number, bits: 128 | 192 | 256) {
    this.id = id;
    this.bits = bits;
  }

  /** @internal */
  static create(id: number, material: KeyMaterial): EncryptionKey {
    const key = new EncryptionKey(id, (material.raw.length * 8) as 128 | 192 | 256);
    keyMaterial.set(key, material);
    return Object.freeze(key);
  }
}

/** @internal What a {@link EncryptionKey} holds out of sight. */
export interface KeyMaterial {
  readonly raw: Uint8Array;
  readonly cryptoKey: CryptoKey;
}

const keyMaterial = new WeakMap<EncryptionKey, KeyMaterial>();

/**
 * @internal Reads the material behind a key.
 * @throws TypeError when `key` was not made by {@link importRawKey}.
 */
export function materialOf(key: EncryptionKey): KeyMaterial {
  const material = keyMaterial.get(key);
  if (material === undefined) {
    throw new TypeError('keys must come from importRawKey()');
  }
  return material;
}

/**
 * Options of {@link importRawKey}.
 */
export interface ImportRawKeyOptions {
  /**
   * The key id (an unsigned 32-bit integer) to write into sealed values.
   * @default derived from the key
   */
  readonly id?: number;
}

const ID_LABEL = new TextEncoder().encode('kit-session key id\0');

/**
 * Imports an AES key from base64 (standard or url-safe, padding optional) for
 * `EncryptingStoreDecorator`. Make one with `openssl rand -base64 32`.
 *
 * @param base64 - 16, 24 or 32 random bytes as base64.
 * @param options - See {@link ImportRawKeyOptions}.
 * @returns The key, ready to seal and open.
 * @throws TypeError when the text is not base64 or does not hold 16, 24 or 32 bytes
 *   (the message gives the length, never the key).
 * @example
 * ```ts
 * const keys = [await importRawKey(secrets.sessionKey), await importRawKey(secrets.previousSessionKey)]; // from a secrets manager
 * ```
 */
export async function importRawKey(base64: string, options: ImportRawKeyOptions = {}): Promise<EncryptionKey> {
  if (typeof base64 !== 'string') {
    throw new TypeError('the key must be a base64 string');
  }
  const raw = decodeBase64url(base64.trim().replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  if (raw === undefined) {
    throw new TypeError('the key is not valid base64');
  }
  if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) {
    throw new TypeError(`the key must be 16, 24 or 32 bytes; got ${raw.length}`);
  }
  let { id } = options;
  if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0xffffffff)) {
    throw new TypeError('the key id must be an unsigned 32-bit integer');
  }
  if (id === undefined) {
    const labelled = new Uint8Array(ID_LABEL.length + raw.length);
    labelled.set(ID_LABEL);
    labelled.set(raw, ID_LABEL.length);
    id = new DataView(await crypto.subtle.digest('SHA-256', labelled)).getUint32(0);
  }
  const cryptoKey = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  return EncryptionKey.create(id, { raw: Uint8Array.from(raw), cryptoKey });
}

/**
 * Imports one AES key from an environment variable holding it as base64, for
 * `EncryptingStoreDecorator` or `createCookieSessions`: {@link importRawKey} with an
 * error that names the variable when it is missing or malformed (never its value).
 * To rotate keys without a change of code, read a list with {@link importKeysFromEnv}.
 *
 * @param name - The variable's name, e.g. `'SESSION_KEY'`.
 * @param env - Where to read it: `process.env` unless given (a Worker's `env`, Deno's
 *   `Deno.env.toObject()`).
 * @returns The key, ready to seal and open.
 * @throws TypeError naming the variable when it is unset or empty, when it does not
 *   hold 16, 24 or 32 bytes of base64 (make one with `openssl rand -base64 32`), or when
 *   it holds a comma-separated list (read one with {@link importKeysFromEnv}).
 * @example
 * ```ts
 * const manager = createCookieSessions({ keys: [await importKeyFromEnv('SESSION_KEY')] });
 * ```
 */
export async function importKeyFromEnv(name: string, env: Environment = processEnv()): Promise<EncryptionKey> {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new TypeError(`${name} is not set: give it 32 random bytes as base64 (openssl rand -base64 32)`);
  }
  if (value.includes(',')) {
    throw new TypeError(`${name} holds a list of keys: read it with importKeysFromEnv`);
  }
  try {
    return await importRawKey(value);
  } catch (error) {
    throw new TypeError(
      `${name} does not hold a key: it must be 16, 24 or 32 random bytes as base64 (openssl rand -base64 32)`,
      { cause: error },
    );
  }
}

/** Where {@link importKeyFromEnv} and {@link importKeysFromEnv} read variables. */
type Environment = Readonly<Record<string, string | undefined>>;

/** `process.env` where there is one (Node, Bun, Deno), else nothing. */
function processEnv(): Environment {
  return (globalThis as { process?: { env: Environment } }).process?.env ?? {};
}

/**
 * Imports the session keys from one environment variable holding a newest-first,
 * comma-separated list of base64 keys, so that keys rotate by changing the variable,
 * not the code: `SESSION_KEY="<new>,<old>"`. The first key seals; every key listed
 * opens what it sealed. Pass the result as `keys` to `createCookieSessions` or
 * `EncryptingStoreDecorator`.
 *
 * - Empty entries are skipped, so a list written from two variables (`"$NEW,$OLD"`)
 *   still starts when the old one is unset.
 * - Each key is 16, 24 or 32 random bytes as base64 (`openssl rand -base64 32`); its id
 *   is derived from the key, so the same list gives the same ids on every machine.
 *   Explicit ids (`importRawKey`'s `id`) are not read from the variable: an id that
 *   differed between two machines would keep each from opening the other's cookies.
 *
 * @param name - The variable's name, e.g. `'SESSION_KEY'`.
 * @param env - Where to read it: `process.env` unless given (a Worker's `env`, Deno's
 *   `Deno.env.toObject()`).
 * @returns The keys, newest first: at least one.
 * @throws TypeError naming the variable (and the entry, counted from 1) when it is
 *   unset or lists no key, when an entry is not 16, 24 or 32 bytes of base64, or when
 *   it lists one key twice. The message never holds a key or any part of one.
 * @example
 * ```ts
 * // SESSION_KEY="$(openssl rand -base64 32)"; to rotate: SESSION_KEY="<new>,<old>"
 * const manager = createCookieSessions({ keys: await importKeysFromEnv('SESSION_KEY') });
 * ```
 */
export async function importKeysFromEnv(name: string, env: Environment = processEnv()): Promise<EncryptionKey[]> {
  const value = env[name];
  if (typeof value !== 'string') {
    throw new TypeError(`${name} is not set: give it 32 random bytes as base64 (openssl rand -base64 32), or several, newest first, separated by commas`);
  }
  const entries = value.split(',').map((entry, index) => ({ text: entry.trim(), position: index + 1 }));
  const listed = entries.filter((entry) => entry.text !== '');
  if (listed.length === 0) {
    throw new TypeError(`${name} lists no key: give it 32 random bytes as base64 (openssl rand -base64 32), or several, newest first, separated by commas`);
  }
  const keys: EncryptionKey[] = [];
  const positions = new Map<number, number>();
  for (const { text, position } of listed) {
    let key: EncryptionKey;
    try {
      key = await importRawKey(text);
    } catch (error) {
      throw new TypeError(
        `${name}: entry ${position} is not a key: each must be 16, 24 or 32 random bytes as base64 (openssl rand -base64 32)`,
        { cause: error },
      );
    }
    const earlier = positions.get(key.id);
    if (earlier !== undefined) {
      throw new TypeError(`${name}: entries ${earlier} and ${position} are one key (or share its id): list each key once`);
    }
    positions.set(key.id, position);
    keys.push(key);
  }
  return keys;
}
