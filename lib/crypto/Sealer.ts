// Seals and opens byte strings under a list of keys, in the format of sealedFormat.ts:
// the Web Crypto AES-GCM sealer here, the node:crypto one in NodeCryptoSealer.ts, the
// XChaCha20-Poly1305 one in SodiumSealer.ts, and `createSealer`, which picks one.

import type * as NodeCrypto from 'node:crypto';
import { encodeBase64url } from '../core/base64url.js';
import { materialOf, type EncryptionKey } from './keys.js';
import { NodeCryptoSealer } from './NodeCryptoSealer.js';
import { sealCountOf, type SealCount } from './sealCount.js';
import { type Aead, concat, FORMAT_VERSION, header, HEADER, IV, keyHead, type KeyHead, keyMap, namesKey, parse, TAG } from './sealedFormat.js';
import { lazyXChaChaOpener, type OtherOpener, SodiumSealer } from './SodiumSealer.js';

/**
 * Which implementation of AES-GCM to use.
 * - `'auto'`: `node:crypto` where it exists (Node, Bun, Deno), else Web Crypto;
 * - `'webcrypto'`: `crypto.subtle` only, as on an edge runtime (not with
 *   `aead: 'xchacha20-poly1305'`).
 * Both write the same format and open each other's output.
 */
export type CryptoPath = 'auto' | 'webcrypto';

export type { Aead } from './sealedFormat.js';

/**
 * Seals and opens byte strings under a list of keys. The node:crypto sealer answers
 * synchronously, the Web Crypto one with a promise: callers on a hot path skip the
 * `await` when the answer is already there.
 * @internal
 */
export interface Sealer {
  /** The AEAD that seals. */
  readonly aead: Aead;
  /** Seals with the first key. */
  seal(plaintext: Uint8Array, label: Uint8Array): string | Promise<string>;
  /** Opens with whichever listed key the header names; `undefined` on any failure. */
  open(sealed: string, label: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /**
   * Whether a sealed text's header names the sealing (first) key and AEAD: `false` means
   * an older key or the other AEAD sealed it, and it is to be sealed again.
   */
  sealsCurrent(sealed: string): boolean;
}

/** AES-GCM on `crypto.subtle` alone: runs on every runtime with Web Crypto. */
class WebCryptoSealer implements Sealer {
  readonly aead = 'aes-gcm';
  readonly #sealKey: CryptoKey;
  /** How texts sealed under the first key start. */
  readonly #sealHead: KeyHead;
  readonly #header: Uint8Array;
  readonly #keys: Map<number, CryptoKey>;
  readonly #sealCount: SealCount;
  readonly #openOther: OtherOpener;

  constructor(keys: readonly EncryptionKey[], openOther: OtherOpener) {
    this.#keys = keyMap(keys, (key) => materialOf(key).cryptoKey);
    this.#sealKey = materialOf(keys[0]!).cryptoKey;
    this.#sealHead = keyHead(keys[0]!.id);
    this.#header = header(keys[0]!.id);
    this.#sealCount = sealCountOf(keys[0]!.id);
    this.#openOther = openOther;
  }

  sealsCurrent(sealed: string): boolean {
    return namesKey(sealed, this.#sealHead);
  }

  async seal(plaintext: Uint8Array, label: Uint8Array): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(IV));
    this.#sealCount.add();
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
    if (parsed?.version !== FORMAT_VERSION) {
      return parsed && this.#openOther(parsed, label);
    }
    const key = this.#keys.get(parsed.keyId);
    if (key === undefined) {
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
 * Makes a sealer for a list of keys: the first seals, any opens; it seals with one AEAD
 * and opens both (XChaCha20-Poly1305 where sodium-native loads).
 *
 * @param keys - At least one key from `importRawKey`.
 * @param path - Which AES-GCM implementation to use.
 * @param aead - Which AEAD seals.
 * @returns The sealer.
 * @throws TypeError when the list is empty, a key was not made by `importRawKey`, two
 *   keys share an id, the path or AEAD is unknown, or, with `'xchacha20-poly1305'`, the
 *   first key is not 256 bits, the path is `'webcrypto'`, or node:crypto or
 *   sodium-native cannot be loaded.
 * @internal
 */
export function createSealer(keys: readonly EncryptionKey[], path: CryptoPath = 'auto', aead: Aead = 'aes-gcm'): Sealer {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError('at least one key is needed');
  }
  if (path !== 'auto' && path !== 'webcrypto') {
    throw new TypeError('crypto must be "auto" or "webcrypto"');
  }
  if (aead !== 'aes-gcm' && aead !== 'xchacha20-poly1305') {
    throw new TypeError('aead must be "aes-gcm" or "xchacha20-poly1305"');
  }
  const node = path === 'auto' ? nodeCrypto() : undefined;
  if (aead === 'aes-gcm') {
    const openOther = lazyXChaChaOpener(keys);
    return node === undefined ? new WebCryptoSealer(keys, openOther) : new NodeCryptoSealer(node, keys, openOther);
  }
  if (node === undefined) {
    throw new TypeError(
      path === 'webcrypto'
        ? "aead 'xchacha20-poly1305' cannot run on crypto 'webcrypto': Web Crypto has no XChaCha20-Poly1305"
        : "aead 'xchacha20-poly1305' needs node:crypto and sodium-native: use aead 'aes-gcm' on this runtime",
    );
  }
  // Checks the keys before sodium-native is loaded: the key's error is the one to fix first.
  materialOf(keys[0]!);
  const aes = new NodeCryptoSealer(node, keys, () => undefined);
  return new SodiumSealer(node, keys, (parsed, label) => aes.openParsed(parsed, label));
}
