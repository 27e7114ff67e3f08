// Seals and opens byte strings with AES-GCM under a list of keys, in the format of
// sealedFormat.ts: the Web Crypto sealer here, the node:crypto one in
// NodeCryptoSealer.ts, and `createSealer`, which picks one.

import type * as NodeCrypto from 'node:crypto';
import { encodeBase64url } from '../core/base64url.js';
import { materialOf, type EncryptionKey } from './keys.js';
import { NodeCryptoSealer } from './NodeCryptoSealer.js';
import { concat, header, HEADER, IV, keyHead, type KeyHead, keyMap, namesKey, parse, TAG } from './sealedFormat.js';

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

/** AES-GCM on `crypto.subtle` alone: runs on every runtime with Web Crypto. */
class WebCryptoSealer implements Sealer {
  readonly #sealKey: CryptoKey;
  /** How texts sealed under the first key start. */
  readonly #sealHead: KeyHead;
  readonly #header: Uint8Array;
  readonly #keys: Map<number, CryptoKey>;

  constructor(keys: readonly EncryptionKey[]) {
    this.#keys = keyMap(keys, (key) => materialOf(key).cryptoKey);
    this.#sealKey = materialOf(keys[0]!).cryptoKey;
    this.#sealHead = keyHead(keys[0]!.id);
    this.#header = header(keys[0]!.id);
  }

  sealsCurrent(sealed: string): boolean {
    return namesKey(sealed, this.#sealHead);
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
 * @param keys - At least one key from `importRawKey`.
 * @param path - Which AES-GCM implementation to use.
 * @returns The sealer.
 * @throws TypeError when the list is empty, a key was not made by `importRawKey`, two
 *   keys share an id, or the path is unknown.
 * @internal
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
