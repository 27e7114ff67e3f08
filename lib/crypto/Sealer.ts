import type * as NodeCrypto from 'node:crypto';
import { allocBytes, decodeBase64url, encodeBase64url } from '../core/base64url.js';
import { materialOf, type EncryptionKey } from './keys.js';

// The sealed format, version 1, as base64url without padding:
//
//   version (1 byte, 0x01) | key id (4 bytes, big-endian) | IV (12 bytes) | ciphertext | tag (16 bytes)
//
// AES-GCM with a fresh random 96-bit IV per seal. The additional authenticated data is
// the 5-byte header followed by a caller-given label (the cookie name, say), so a
// sealed value cannot be moved to another label, key id or format version.

/**
 * The format version this code writes.
 *
 * @internal
 */
export const FORMAT_VERSION = 1;
const HEADER = 5;
const IV = 12;
const TAG = 16;
const OVERHEAD = HEADER + IV + TAG;
/** How many IVs the node:crypto sealer draws from one call to the CSPRNG. */
const IV_POOL = 256;

/**
 * Which implementation of AES-GCM to use.
 * - `'auto'`: `node:crypto` where it exists (Node, Bun, Deno), else Web Crypto;
 * - `'webcrypto'`: `crypto.subtle` only, as on an edge runtime.
 * Both write the same format and open each other's output.
 */
export type CryptoPath = 'auto' | 'webcrypto';

/**
 * Seals and opens byte strings under a list of keys. The node:crypto sealer answers
 * synchronously, the Web Crypto one with a promise: callers on a hot path skip the
 * `await` when the answer is already there.
 *
 * @internal
 */
export interface Sealer {
  /** Seals with the first key. */
  seal(plaintext: Uint8Array, label: Uint8Array): string | Promise<string>;
  /** Opens with whichever listed key the header names; `undefined` on any failure. */
  open(sealed: string, label: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Whether a sealed text's header names the sealing (first) key: `false` means an older key sealed it. */
  sealsCurrent(sealed: string): boolean;
}

/**
 * How long the sealed text of a plaintext is.
 *
 * @internal
 * @param plaintextLength - The plaintext's length in bytes.
 * @returns The sealed text's length in characters (base64url without padding).
 */
export function sealedLength(plaintextLength: number): number {
  return Math.ceil(((OVERHEAD + plaintextLength) * 4) / 3);
}

/** Whether a sealed text's header names this key id (the first 8 characters are the 6 bytes it starts with). */
function namesKey(sealed: string, keyId: number): boolean {
  const head = decodeBase64url(sealed.slice(0, 8));
  return (
    head !== undefined &&
    head.length === 6 &&
    new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(1) === keyId
  );
}

function header(keyId: number): Uint8Array {
  const bytes = new Uint8Array(HEADER);
  bytes[0] = FORMAT_VERSION;
  new DataView(bytes.buffer).setUint32(1, keyId);
  return bytes;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

interface Parsed {
  readonly keyId: number;
  readonly bytes: Uint8Array;
}

function parse(sealed: string): Parsed | undefined {
  const bytes = decodeBase64url(sealed);
  if (bytes === undefined || bytes.length < OVERHEAD || bytes[0] !== FORMAT_VERSION) {
    return undefined;
  }
  return { keyId: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1), bytes };
}

function keyMap<K>(keys: readonly EncryptionKey[], make: (key: EncryptionKey) => K): Map<number, K> {
  const map = new Map<number, K>();
  for (const key of keys) {
    if (map.has(key.id)) {
      throw new TypeError(`two keys share the key id ${key.id}: list each key once, or give distinct ids`);
    }
    map.set(key.id, make(key));
  }
  return map;
}

/** AES-GCM on `crypto.subtle` alone: runs on every runtime with Web Crypto. */
class WebCryptoSealer implements Sealer {
  readonly #sealKey: CryptoKey;
  readonly #sealKeyId: number;
  readonly #header: Uint8Array;
  readonly #keys: Map<number, CryptoKey>;

  constructor(keys: readonly EncryptionKey[]) {
    this.#keys = keyMap(keys, (key) => materialOf(key).cryptoKey);
    this.#sealKey = materialOf(keys[0]!).cryptoKey;
    this.#sealKeyId = keys[0]!.id;
    this.#header = header(keys[0]!.id);
  }

  sealsCurrent(sealed: string): boolean {
    return namesKey(sealed, this.#sealKeyId);
  }

  async seal(plaintext: Uint8Array, label: Uint8Array): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(IV));
    const encrypted = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: concat(this.#header, label), tagLength: TAG * 8 },
      this.#sealKey,
      plaintext as Uint8Array<ArrayBuffer>,
    );
    const out = new Uint8Array(HEADER + IV + encrypted.byteLength);
    out.set(this.#header);
    out.set(iv, HEADER);
    out.set(new Uint8Array(encrypted), HEADER + IV);
    return encodeBase64url(out);
  }

  async open(sealed: string, label: Uint8Array): Promise<Uint8Array | undefined> {
    const parsed = parse(sealed);
    const key = parsed && this.#keys.get(parsed.keyId);
    if (parsed === undefined || key === undefined) {
      return undefined;
    }
    const { bytes } = parsed;
    try {
      const plain = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: bytes.subarray(HEADER, HEADER + IV) as Uint8Array<ArrayBuffer>,
          additionalData: concat(bytes.subarray(0, HEADER), label),
          tagLength: TAG * 8,
        },
        key,
        bytes.subarray(HEADER + IV) as Uint8Array<ArrayBuffer>,
      );
      return new Uint8Array(plain);
    } catch {
      return undefined;
    }
  }
}

interface NodeKey {
  readonly algorithm: NodeCrypto.CipherGCMTypes;
  readonly key: NodeCrypto.KeyObject;
}

/** The same format through synchronous `node:crypto`: no promise and no thread hop per call. */
class NodeCryptoSealer implements Sealer {
  readonly #crypto: typeof NodeCrypto;
  readonly #sealKeyId: number;
  readonly #sealKey: NodeKey;
  readonly #header: Uint8Array;
  readonly #keys: Map<number, NodeKey>;
  // IVs come from a pool that one randomFillSync call fills for IV_POOL seals: the call
  // costs more than sealing a small session. Each IV is still 96 fresh CSPRNG bits,
  // used once.
  readonly #ivPool = new Uint8Array(IV * IV_POOL);
  #ivAt = IV * IV_POOL;
  // The additional data for the label sealed last (the decorator seals every token
  // under one label), so that a seal does not build it again.
  #aadLabel: Uint8Array | undefined;
  #aad: Uint8Array = new Uint8Array(0);

  constructor(nodeCrypto: typeof NodeCrypto, keys: readonly EncryptionKey[]) {
    this.#crypto = nodeCrypto;
    this.#keys = keyMap(keys, (key) => {
      const { raw } = materialOf(key);
      return {
        algorithm: `aes-${raw.length * 8}-gcm` as NodeCrypto.CipherGCMTypes,
        key: nodeCrypto.createSecretKey(raw),
      };
    });
    this.#sealKeyId = keys[0]!.id;
    this.#sealKey = this.#keys.get(this.#sealKeyId)!;
    this.#header = header(this.#sealKeyId);
  }

  sealsCurrent(sealed: string): boolean {
    return namesKey(sealed, this.#sealKeyId);
  }

  /** The additional data for a label under the sealing key's header. */
  #sealAad(label: Uint8Array): Uint8Array {
    if (label !== this.#aadLabel) {
      this.#aad = concat(this.#header, label);
      this.#aadLabel = label;
    }
    return this.#aad;
  }

  seal(plaintext: Uint8Array, label: Uint8Array): string {
    // Every byte is written below: header, IV, ciphertext (as long as the plaintext for
    // GCM) and tag.
    const out = allocBytes(OVERHEAD + plaintext.length);
    out.set(this.#header);
    const iv = out.subarray(HEADER, HEADER + IV);
    if (this.#ivAt === this.#ivPool.length) {
      this.#crypto.randomFillSync(this.#ivPool);
      this.#ivAt = 0;
    }
    iv.set(this.#ivPool.subarray(this.#ivAt, this.#ivAt + IV));
    this.#ivAt += IV;
    const cipher = this.#crypto.createCipheriv(this.#sealKey.algorithm, this.#sealKey.key, iv, { authTagLength: TAG });
    cipher.setAAD(this.#sealAad(label));
    const body = cipher.update(plaintext);
    const final = cipher.final();
    out.set(body, HEADER + IV);
    out.set(final, HEADER + IV + body.length);
    out.set(cipher.getAuthTag(), HEADER + IV + plaintext.length);
    return encodeBase64url(out);
  }

  open(sealed: string, label: Uint8Array): Uint8Array | undefined {
    const parsed = parse(sealed);
    const key = parsed && this.#keys.get(parsed.keyId);
    if (parsed === undefined || key === undefined) {
      return undefined;
    }
    const { bytes } = parsed;
    const tagAt = bytes.length - TAG;
    try {
      const decipher = this.#crypto.createDecipheriv(key.algorithm, key.key, bytes.subarray(HEADER, HEADER + IV), {
        authTagLength: TAG,
      });
      // A token sealed under the first key has the header this sealer writes.
      decipher.setAAD(
        parsed.keyId === this.#sealKeyId ? this.#sealAad(label) : concat(bytes.subarray(0, HEADER), label),
      );
      decipher.setAuthTag(bytes.subarray(tagAt));
      const body = decipher.update(bytes.subarray(HEADER + IV, tagAt));
      const final = decipher.final();
      return final.length === 0 ? body : concat(body, final);
    } catch {
      return undefined;
    }
  }
}

function nodeCrypto(): typeof NodeCrypto | undefined {
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  return typeof getBuiltinModule === 'function'
    ? (getBuiltinModule('node:crypto') as typeof NodeCrypto | undefined)
    : undefined;
}

/**
 * Makes a sealer for a list of keys: the first seals, any opens.
 *
 * @internal
 * @param keys - At least one key from `importRawKey`.
 * @param path - Which AES-GCM implementation to use.
 * @returns The sealer.
 * @throws TypeError when the list is empty, a key was not made by `importRawKey`, two
 *   keys share an id, or the path is unknown.
 */
export function createSealer(keys: readonly EncryptionKey[], path: CryptoPath = 'auto'): Sealer {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError('at least one key is needed');
  }
  if (path !== 'auto' && path !== 'webcrypto') {
    throw new TypeError('crypto must be "auto" or "webcrypto"');
  }
  const node = path === 'auto' ? nodeCrypto() : undefined;
  return node === undefined ? new WebCryptoSealer(keys) : new NodeCryptoSealer(node, keys);
}
