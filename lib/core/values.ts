import { SessionValueError } from './SessionError.js';

/**
 * How deeply a value may nest arrays and objects: `[]` is 1 deep, `[[]]` 2.
 *
 * @internal
 */
export const MAX_VALUE_DEPTH = 64;

/**
 * A `\u0000` or lone-surrogate escape in JSON text, not preceded by an escaped
 * backslash. `JSON.stringify` writes U+0000 and every lone surrogate as such an escape
 * (and surrogate pairs as the characters themselves), so this finds, in names and
 * strings at any depth, the text PostgreSQL's jsonb refuses and Redis would turn into
 * U+FFFD.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

function storableText(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed() && !text.includes('\0');
}

function deeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (limit === 0) {
    return true;
  }
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (deeperThan(item, limit - 1)) {
      return true;
    }
  }
  return false;
}

/**
 * Checks a value's name: a string that every store can keep as a name.
 *
 * @internal
 * @param name - The name.
 * @throws SessionValueError when it is not a string, or holds U+0000 or a lone surrogate.
 */
export function checkValueName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new SessionValueError('a session value name must be a string');
  }
  if (!storableText(name)) {
    throw new SessionValueError('a session value name may not hold U+0000 or a lone UTF-16 surrogate');
  }
}

/**
 * Gives a value as every store gives it back: what `JSON.parse(JSON.stringify(value))`
 * makes of it (a `Date` becomes its ISO text, `NaN` becomes `null`, an object property
 * holding `undefined` or a function is dropped, `-0` becomes `0`, a class instance
 * becomes a plain object), so that a request reads after `setValue` exactly what the
 * next request loads, on every store. Text and numbers pass without an encoding round
 * trip.
 *
 * @internal
 * @param value - The value, not `undefined` (the manager unsets a value set to `undefined`).
 * @returns The value as JSON gives it back: a fresh copy for objects and arrays.
 * @throws SessionValueError when JSON cannot encode the value (a BigInt, a cycle, a
 *   throwing `toJSON`), it is a function or a symbol, it nests deeper than
 *   {@link MAX_VALUE_DEPTH}, or it holds U+0000 or a lone surrogate in any text.
 */
export function storableValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      if (!storableText(value)) {
        throw new SessionValueError('a session value may not hold U+0000 or a lone UTF-16 surrogate');
      }
      return value;
    case 'number':
      // As JSON: non-finite numbers become null, -0 becomes 0.
      return Number.isFinite(value) ? value + 0 : null;
    case 'boolean':
      return value;
    default:
      break;
  }
  if (value === null) {
    return null;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    // A BigInt, a cycle, a toJSON that throws, or nesting too deep for the encoder.
    throw new SessionValueError('a session value cannot be encoded as JSON', { cause: error });
  }
  if (json === undefined) {
    throw new SessionValueError('a session value cannot be a function, a symbol or undefined inside toJSON');
  }
  if (UNSTORABLE_ESCAPE.test(json)) {
    throw new SessionValueError('a session value may not hold U+0000 or a lone UTF-16 surrogate');
  }
  const copy: unknown = JSON.parse(json);
  if (deeperThan(copy, MAX_VALUE_DEPTH)) {
    throw new SessionValueError(`a session value may nest at most ${MAX_VALUE_DEPTH} arrays or objects deep`);
  }
  return copy;
}
