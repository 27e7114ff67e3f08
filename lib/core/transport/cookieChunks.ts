// The chunked-cookie format (core/transport), written and parsed here alone: a session
// token too long for one cookie, written by CookieTransport with `chunking` over cookies
// of one name and its numbered successors:
//
//   name           = count "~" length "~" setId "~" part 0
//   name.1         = setId "~" part 1
//   …
//   name.(count-1) = setId "~" part (count-1)
//
//   count   how many cookies the set has, 1 to the most the budget allows; decimal,
//           no leading zero
//   length  the token's length in characters (as the cookies decode); decimal, no
//           leading zero: a part cut short (a header truncated on the way) never joins
//   setId   8 base64url characters, 48 random bits drawn for every write: the cookies
//           of two responses (two tabs, a set left over from a larger session) never
//           join into one token, whatever the store's tokens are
//   part k  the k-th slice of the token as the cookie carries it (URI-encoded unless
//           base64url), cut between two whole characters so each part decodes alone;
//           never empty
//
// A token that fits in one cookie is written as it is, in `name`, unless it begins the
// way a set does (digits, then `~`): such a token is written as a set of one, so a
// cookie's value is read one way only. The built-in stores' tokens are base64url and
// never begin so.

import { encodeBase64url } from '../base64url.js';

/**
 * Characters of a set id.
 *
 * @internal
 */
export const SET_ID_LENGTH = 8;

/**
 * Characters in front of every part after the first: the set id and its `~`.
 *
 * @internal
 */
export const REST_HEAD_LENGTH = SET_ID_LENGTH + 1;

/**
 * The longest encoded character: a 4-byte UTF-8 sequence, percent-encoded.
 *
 * @internal
 */
export const MAX_UNIT = 12;

const SET_ID = /^[A-Za-z0-9_-]{8}$/;

/**
 * A fresh set id: 6 random bytes as 8 base64url characters.
 *
 * @internal
 * @returns The set id.
 */
export function newSetId(): string {
  return encodeBase64url(crypto.getRandomValues(new Uint8Array(6)));
}

/**
 * The name of a set's k-th cookie.
 *
 * @internal
 * @param name - The session cookie's name.
 * @param index - 0 for the first cookie, which carries the plain name.
 * @returns `name` or `name.<index>`.
 */
export function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index}`;
}

/**
 * Whether a first cookie's value (or a token to write) begins the way a set does:
 * digits, then `~`. Such a value is never a plain token.
 *
 * @internal
 * @param value - The decoded value of `name`, or a token.
 * @returns `true` when it must be read (or written) as a set.
 */
export function beginsAsSet(value: string): boolean {
  let i = 0;
  while (i < value.length) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) {
      break;
    }
    i++;
  }
  return i > 0 && value.charCodeAt(i) === 126; // '~'
}

/**
 * What goes in front of part 0 in the first cookie.
 *
 * @internal
 * @param count - How many cookies the set has.
 * @param length - The token's length, in characters.
 * @param setId - The set's id.
 * @returns `count~length~setId~`.
 */
export function firstHead(count: number, length: number, setId: string): string {
  return `${count}~${length}~${setId}~`;
}

/**
 * How long {@link firstHead} is.
 *
 * @internal
 * @param countDigits - Digits of the count.
 * @param length - The token's length.
 * @returns Its length in characters.
 */
export function firstHeadLength(countDigits: number, length: number): number {
  return countDigits + 1 + digits(length) + 1 + REST_HEAD_LENGTH;
}

/**
 * Decimal digits of a positive integer.
 *
 * @internal
 */
export function digits(value: number): number {
  return String(value).length;
}

/**
 * Joins a set read from a Cookie header, or gives `undefined` unless the set is whole:
 * every cookie `name.1` … `name.(count-1)` present and of the same set id, the count at
 * most `maxCount`, every part non-empty and the joined token of the length the first
 * cookie names. Cookies past the count (of an earlier, larger set) are not looked at.
 *
 * @internal
 * @param cookies - The request's cookies, decoded (`parseCookie`: the first of a name wins).
 * @param name - The session cookie's name.
 * @param first - The value of `name`, which {@link beginsAsSet}.
 * @param maxCount - The most cookies a set may have.
 * @returns The token, or `undefined`.
 */
export function joinChunks(
  cookies: Readonly<Record<string, string | undefined>>,
  name: string,
  first: string,
  maxCount: number,
): string | undefined {
  const countEnd = first.indexOf('~');
  const lengthEnd = first.indexOf('~', countEnd + 1);
  if (lengthEnd === -1) {
    return undefined;
  }
  const count = canonicalInteger(first, 0, countEnd);
  const length = canonicalInteger(first, countEnd + 1, lengthEnd);
  const setId = first.slice(lengthEnd + 1, lengthEnd + 1 + SET_ID_LENGTH);
  const partStart = lengthEnd + 1 + REST_HEAD_LENGTH;
  if (
    count === undefined ||
    count > maxCount ||
    length === undefined ||
    !SET_ID.test(setId) ||
    first.charCodeAt(partStart - 1) !== 126 ||
    first.length === partStart
  ) {
    return undefined;
  }
  let token = first.slice(partStart);
  for (let index = 1; index < count; index++) {
    const value = cookies[`${name}.${index}`];
    if (value === undefined || value.length <= REST_HEAD_LENGTH || value.charCodeAt(SET_ID_LENGTH) !== 126 || !value.startsWith(setId)) {
      return undefined;
    }
    token += value.slice(REST_HEAD_LENGTH);
  }
  return token.length === length ? token : undefined;
}

/**
 * The index of a set's cookie from its name: `k` for `name.k` (k ≥ 1, no leading zero).
 *
 * @internal
 * @param cookieName - A cookie's name.
 * @param name - The session cookie's name.
 * @returns The index, or `undefined` for any other cookie.
 */
export function chunkIndex(cookieName: string, name: string): number | undefined {
  if (cookieName.length <= name.length + 1 || !cookieName.startsWith(name) || cookieName.charCodeAt(name.length) !== 46) {
    return undefined;
  }
  return canonicalInteger(cookieName, name.length + 1, cookieName.length);
}

/**
 * Where an encoded token is cut into parts: greedy, each part as long as its cookie
 * has room for, cut between whole characters (`%XX` sequences of one UTF-8 character
 * stay together).
 *
 * @internal
 * @param value - The token as the cookie carries it, or only its length when every
 *   character is one (base64url, as `checkTokenLength` is asked).
 * @param room - The characters part `index` may take, when the count has `countDigits` digits.
 * @returns The end of each part (exclusive), or `undefined` when some part has no room
 *   for the next character.
 */
export function cutPoints(value: string | number, room: (index: number, countDigits: number) => number): number[] | undefined {
  const length = typeof value === 'number' ? value : value.length;
  const units = typeof value === 'string' && value.includes('%') ? value : undefined;
  // The count's digits change the room of part 0: lay out with 1, and again with more
  // while the count turns out longer (it only grows as the room shrinks).
  for (let countDigits = 1; ; countDigits++) {
    const ends: number[] = [];
    let start = 0;
    while (start < length) {
      const space = room(ends.length, countDigits);
      let end = Math.min(length, start + Math.max(0, space));
      if (units !== undefined && end < length) {
        end = unitStart(units, end);
      }
      if (end <= start) {
        return undefined;
      }
      ends.push(end);
      start = end;
    }
    if (digits(ends.length) <= countDigits) {
      return ends;
    }
  }
}

/**
 * The start of the encoded character that holds position `at` (or `at` when one starts
 * there): a cut never falls inside a `%XX` sequence nor between the bytes of one
 * UTF-8 character. `%` appears in an encoded value only to begin a sequence.
 */
function unitStart(value: string, at: number): number {
  let start = at;
  if (value.charCodeAt(start) !== 37) {
    if (value.charCodeAt(start - 1) === 37) {
      start -= 1;
    } else if (value.charCodeAt(start - 2) === 37) {
      start -= 2;
    } else {
      return start;
    }
  }
  // On a sequence: step back over continuation bytes (0x80–0xBF) to the character's lead.
  for (let step = 0; step < 3 && start >= 3; step++) {
    const byte = Number.parseInt(value.slice(start + 1, start + 3), 16);
    if (!(byte >= 0x80 && byte < 0xc0)) {
      break;
    }
    start -= 3;
  }
  return start;
}

/** A decimal integer ≥ 1 with no leading zero, or `undefined`. */
function canonicalInteger(text: string, start: number, end: number): number | undefined {
  if (end <= start || end - start > 9 || text.charCodeAt(start) === 48) {
    return undefined;
  }
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) {
      return undefined;
    }
    value = value * 10 + (code - 48);
  }
  return value;
}
