// Base64url without padding, on Buffer where it exists (Node, Bun, Deno) and on
// btoa/atob elsewhere (edge runtimes), so the core runs on Web APIs alone.

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Whether a text is made of base64url characters only (no padding).
 *
 * @internal
 * @param text - Any text.
 * @returns `true` when every character is one of A–Z, a–z, 0–9, `-`, `_`.
 */
export function isBase64urlText(text: string): boolean {
  return BASE64URL.test(text);
}

/**
 * The 6-bit value of a base64url character, by its character code.
 *
 * @internal
 * @param code - A character code.
 * @returns 0–63, or -1 for a character outside base64url.
 */
export function base64urlDigit(code: number): number {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 71;
  if (code >= 48 && code <= 57) return code + 4;
  return code === 45 ? 62 : code === 95 ? 63 : -1;
}

/**
 * Encodes bytes as base64url without padding.
 *
 * @internal
 * @param bytes - The bytes to encode.
 * @returns The base64url text.
 */
export function encodeBase64url(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
  }
  let binary = '';
  for (let i = 0; i < bytes.length; i++) {
    binary += String.fromCharCode(bytes[i]!);
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes canonical base64url without padding. Anything else (other characters,
 * padding, an impossible length, non-zero trailing bits) gives `undefined`, so that
 * one byte string has exactly one text form.
 *
 * @internal
 * @param text - The base64url text.
 * @returns The bytes, or `undefined` when `text` is not canonical base64url.
 */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (NodeBuffer !== undefined) {
    // Buffer's decoder is lenient (it skips stray characters, takes + / and padding):
    // the text is canonical exactly when encoding the bytes gives it back. Cheaper than
    // a regular expression over a long token.
    const decoded = NodeBuffer.from(text, 'base64url');
    return decoded.toString('base64url') === text ? decoded : undefined;
  }
  if (text.length % 4 === 1 || !isBase64urlText(text)) {
    return undefined;
  }
  // Reject non-canonical forms: the unused low bits of the last character must be 0.
  const rest = text.length % 4;
  if (rest !== 0) {
    const last = base64urlDigit(text.charCodeAt(text.length - 1));
    if ((rest === 2 && (last & 0x0f) !== 0) || (rest === 3 && (last & 0x03) !== 0)) {
      return undefined;
    }
  }
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/**
 * Makes a fresh random id of 256 bits from `crypto.getRandomValues`, as base64url.
 *
 * @internal
 * @returns 43 characters of base64url.
 */
export function randomId(): string {
  return encodeBase64url(crypto.getRandomValues(new Uint8Array(32)));
}
