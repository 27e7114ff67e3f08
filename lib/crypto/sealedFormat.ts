// The sealed format, version 1, shared by both sealers (Sealer.ts, NodeCryptoSealer.ts),
// as base64url without padding:
//
//   version (1 byte, 0x01) | key id (4 bytes, big-endian) | IV (12 bytes) | ciphertext | tag (16 bytes)
//
// AES-GCM with a fresh random 96-bit IV per seal. The additional authenticated data is
// the 5-byte header followed by a caller-given label (the cookie name, say), so a
// sealed value cannot be moved to another label, key id or format version.

import { base64urlDigit, decodeBase64url, encodeBase64url } from '../core/base64url.js';
import type { EncryptionKey } from './keys.js';

/**
 * The format version this code writes.
 *
 * @internal
 */
export const FORMAT_VERSION = 1;
/**
 * Bytes of the header: version and key id, also the start of the additional data.
 *
 * @internal
 */
export const HEADER = 5;
/**
 * Bytes of the IV.
 *
 * @internal
 */
export const IV = 12;
/**
 * Bytes of the GCM tag.
 *
 * @internal
 */
export const TAG = 16;
/**
 * Bytes a seal adds to its plaintext.
 *
 * @internal
 */
export const OVERHEAD = HEADER + IV + TAG;

/**
 * How long the sealed text of a plaintext is.
 *
 * @param plaintextLength - The plaintext's length in bytes.
 * @returns The sealed text's length in characters (base64url without padding).
 * @internal
 */
export function sealedLength(plaintextLength: number): number {
  return Math.ceil(((OVERHEAD + plaintextLength) * 4) / 3);
}

/**
 * What the start of a text sealed under one key looks like: 5 header bytes are 40 bits,
 * so the first 6 characters hold the version and the key id's first 28 bits, and the
 * 7th character the id's last 4 bits above the IV's first 2.
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
export function keyHead(keyId: number): KeyHead {
  const text = encodeBase64url(header(keyId));
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
export function header(keyId: number): Uint8Array {
  const bytes = new Uint8Array(HEADER);
  bytes[0] = FORMAT_VERSION;
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
  readonly keyId: number;
  readonly bytes: Uint8Array;
}

/** @internal */
export function parse(sealed: string): Parsed | undefined {
  const bytes = decodeBase64url(sealed);
  if (bytes === undefined || bytes.length < OVERHEAD || bytes[0] !== FORMAT_VERSION) {
    return undefined;
  }
  // Big-endian, read by hand: a DataView per token costs more than the arithmetic.
  return { keyId: ((bytes[1]! << 24) | (bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!) >>> 0, bytes };
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
