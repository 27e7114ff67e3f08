// The sealed format, shared by every sealer (Sealer.ts, NodeCryptoSealer.ts,
// SodiumSealer.ts), as base64url without padding. The first byte names the AEAD:
//
//   0x01, AES-GCM:           version | key id (4 bytes, big-endian) | IV (12 bytes)    | ciphertext | tag (16 bytes)
//   0x02, XChaCha20-Poly1305: version | key id (4 bytes, big-endian) | nonce (24 bytes) | ciphertext | tag (16 bytes)
//
// A fresh random nonce per seal (96 bits for AES-GCM, 192 for XChaCha20-Poly1305). The
// additional authenticated data is the 5-byte header followed by a caller-given label
// (the cookie name, say), so a sealed value cannot be moved to another label, key id or
// algorithm. Both versions use the same key list and ids; XChaCha20-Poly1305's key is
// derived from the listed key's bytes (HKDF-SHA256, SodiumSealer.ts), never the AES key
// itself. A sealer opens both versions (XChaCha20-Poly1305 where sodium-native loads)
// and seals one: the other's tokens are "not current" and get sealed again, as under an
// older key.

import { base64urlDigit, decodeBase64url, encodeBase64url } from '../core/base64url.js';
import type { EncryptionKey } from './keys.js';

/**
 * An AEAD that seals sessions.
 * - `'aes-gcm'`: AES-GCM through node:crypto or Web Crypto, on every runtime;
 * - `'xchacha20-poly1305'`: XChaCha20-Poly1305 through the optional `sodium-native`
 *   package (Node only), one native call per seal or open and a 192-bit nonce.
 */
export type Aead = 'aes-gcm' | 'xchacha20-poly1305';

/**
 * The format version (first byte) of AES-GCM seals.
 *
 * @internal
 */
export const FORMAT_VERSION = 1;
/**
 * The format version (first byte) of XChaCha20-Poly1305 seals.
 *
 * @internal
 */
export const XCHACHA_VERSION = 2;
/**
 * Bytes of the header: version and key id, also the start of the additional data.
 *
 * @internal
 */
export const HEADER = 5;
/**
 * Bytes of the AES-GCM IV.
 *
 * @internal
 */
export const IV = 12;
/**
 * Bytes of the XChaCha20-Poly1305 nonce.
 *
 * @internal
 */
export const XNONCE = 24;
/**
 * Bytes of the GCM tag.
 *
 * @internal
 */
export const TAG = 16;
/**
 * Bytes an AES-GCM seal adds to its plaintext.
 *
 * @internal
 */
export const OVERHEAD = HEADER + IV + TAG;
/**
 * Bytes an XChaCha20-Poly1305 seal adds to its plaintext.
 *
 * @internal
 */
export const XOVERHEAD = HEADER + XNONCE + TAG;

/**
 * The format version an AEAD writes.
 *
 * @internal
 */
export function versionOf(aead: Aead): number {
  return aead === 'aes-gcm' ? FORMAT_VERSION : XCHACHA_VERSION;
}

/**
 * How long the sealed text of a plaintext is.
 *
 * @param plaintextLength - The plaintext's length in bytes.
 * @param aead - The AEAD that seals it.
 * @returns The sealed text's length in characters (base64url without padding).
 * @internal
 */
export function sealedLength(plaintextLength: number, aead: Aead = 'aes-gcm'): number {
  return Math.ceil((((aead === 'aes-gcm' ? OVERHEAD : XOVERHEAD) + plaintextLength) * 4) / 3);
}

/**
 * What the start of a text sealed under one key looks like: 5 header bytes are 40 bits,
 * so the first 6 characters hold the version (the AEAD) and the key id's first 28 bits,
 * and the 7th character the id's last 4 bits above the nonce's first 2.
 *
 * @internal
 */
export interface KeyHead {
  /** The first 6 characters. */
  readonly text: string;
  /** The upper 4 bits of the 7th character's 6. */
  readonly last: number;
}

/** @internal */
export function keyHead(keyId: number, version = FORMAT_VERSION): KeyHead {
  const text = encodeBase64url(header(keyId, version));
  return { text: text.slice(0, 6), last: base64urlDigit(text.charCodeAt(6)) >> 2 };
}

/**
 * Whether a sealed text's header names this key: read from the text itself, without
 * decoding it (a check on every token opened).
 *
 * @internal
 */
export function namesKey(sealed: string, head: KeyHead): boolean {
  return sealed.length > 6 && sealed.startsWith(head.text) && base64urlDigit(sealed.charCodeAt(6)) >> 2 === head.last;
}

/** @internal */
export function header(keyId: number, version = FORMAT_VERSION): Uint8Array {
  const bytes = new Uint8Array(HEADER);
  bytes[0] = version;
  bytes[1] = keyId >>> 24;
  bytes[2] = (keyId >>> 16) & 0xff;
  bytes[3] = (keyId >>> 8) & 0xff;
  bytes[4] = keyId & 0xff;
  return bytes;
}

/** @internal */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** @internal */
export interface Parsed {
  /** {@link FORMAT_VERSION} or {@link XCHACHA_VERSION}. */
  readonly version: number;
  readonly keyId: number;
  readonly bytes: Uint8Array;
}

/**
 * Decodes a sealed text and reads its header: `undefined` when it is not base64url, its
 * version is unknown, or it is shorter than that version's overhead.
 *
 * @internal
 */
export function parse(sealed: string): Parsed | undefined {
  const bytes = decodeBase64url(sealed);
  if (bytes === undefined) {
    return undefined;
  }
  const version = bytes[0]!; // undefined for an empty text: no version matches it
  if (version === FORMAT_VERSION ? bytes.length < OVERHEAD : version !== XCHACHA_VERSION || bytes.length < XOVERHEAD) {
    return undefined;
  }
  // Big-endian, read by hand: a DataView per token costs more than the arithmetic.
  return { version, keyId: ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0, bytes };
}

/** @internal */
export function keyMap<K>(keys: readonly EncryptionKey[], make: (key: EncryptionKey) => K): Map<number, K> {
  const map = new Map<number, K>();
  for (const key of keys) {
    if (map.has(key.id)) {
      throw new TypeError(`two keys share the key id ${key.id}: list each key once, or give distinct ids`);
    }
    map.set(key.id, make(key));
  }
  return map;
}

/**
 * Fresh random nonces for one sealer, drawn from a pool that one call to the CSPRNG fills
 * for 256 seals: that call costs more than sealing a small session. Each nonce is still
 * fresh random bits, used once.
 *
 * @internal
 */
export class NoncePool {
  readonly #size: number;
  readonly #pool: Uint8Array;
  readonly #fill: (pool: Uint8Array) => void;
  #at: number;

  /**
   * @param size - Bytes of one nonce.
   * @param fill - Fills its argument with CSPRNG bytes.
   */
  constructor(size: number, fill: (pool: Uint8Array) => void) {
    this.#size = size;
    this.#pool = new Uint8Array(size * 256);
    this.#fill = fill;
    this.#at = this.#pool.length;
  }

  /** Writes the next nonce into `into`, `size` bytes long. */
  next(into: Uint8Array): void {
    if (this.#at === this.#pool.length) {
      this.#fill(this.#pool);
      this.#at = 0;
    }
    into.set(this.#pool.subarray(this.#at, this.#at + this.#size));
    this.#at += this.#size;
  }
}

/**
 * The additional data of a sealing key's header and the label sealed last: the decorator
 * seals every token under one label, so a seal does not build it again.
 *
 * @internal
 */
export class SealAad {
  readonly #header: Uint8Array;
  #label: Uint8Array | undefined;
  #aad: Uint8Array = new Uint8Array(0);

  /** @param header - The sealing key's header. */
  constructor(header: Uint8Array) {
    this.#header = header;
  }

  /** The additional data for `label` under the header. */
  for(label: Uint8Array): Uint8Array {
    if (label !== this.#label) {
      this.#aad = concat(this.#header, label);
      this.#label = label;
    }
    return this.#aad;
  }
}
